/**
 * The check the log tests share: would Elasticsearch index this JSON log line
 * with the index template shipped in deploy/logging, field by field (no field
 * outside the template unless it is a string the dynamic keyword rule takes,
 * values of the mapped type, no writes to ECS aliases)? Used by the server's
 * and the relay's log tests (`@djcast/relay/log-template`); it reads the
 * template from the repository, so it is for tests, not for a running relay.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export type Mapping = {
  type?: string;
  path?: string;
  dynamic?: boolean;
  properties?: Record<string, Mapping>;
};
export const template = JSON.parse(readFileSync(path.join(root, 'deploy/logging/elasticsearch-index-template.json'), 'utf8')) as {
  index_patterns: string[];
  template: { mappings: Mapping & { dynamic_templates: Record<string, { match_mapping_type: string; mapping: Mapping }>[] } };
};
export const mappings = template.template.mappings;

/** Problems indexing one log line with the template: unknown fields, values of the wrong type, writes to aliases. */
export function mappingProblems(line: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, props: Record<string, Mapping>, prefix: string) => {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const name = prefix + key;
      const mapping = props[key];
      if (v === null) continue; // Elasticsearch indexes nothing for null
      if (Array.isArray(v)) {
        // An array is indexed as its elements, each of the field's type.
        for (const item of v) walk({ [key]: item }, props, prefix);
        continue;
      }
      if (!mapping) {
        const dynamic = mappings.dynamic_templates.some((t) =>
          Object.values(t).some((d) => d.match_mapping_type === 'string' && d.mapping.type === 'keyword'),
        );
        if (typeof v === 'string' && dynamic) continue; // strings_as_keywords
        problems.push(`${name}: not in the template (${typeof v})`);
        continue;
      }
      if (mapping.type === 'alias') {
        problems.push(`${name}: is an alias of ${mapping.path}; write ${mapping.path} instead`);
        continue;
      }
      if (mapping.properties || mapping.type === 'object') {
        if (typeof v !== 'object' || Array.isArray(v)) {
          problems.push(`${name}: an object in the template, ${JSON.stringify(v)} in the line`);
          continue;
        }
        const known = mapping.properties ?? {};
        const sub = Object.fromEntries(
          Object.entries(v as Record<string, unknown>).filter(([k]) => mapping.dynamic !== false || k in known),
        );
        walk(sub, known, `${name}.`);
        continue;
      }
      const ok =
        mapping.type === 'keyword' || mapping.type === 'text'
          ? typeof v === 'string'
          : mapping.type === 'date'
            ? typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v
            : mapping.type === 'integer' || mapping.type === 'long' || mapping.type === 'short'
              ? Number.isInteger(v)
              : mapping.type === 'float' || mapping.type === 'double'
                ? typeof v === 'number'
                : mapping.type === 'boolean'
                  ? typeof v === 'boolean'
                  : false;
      if (!ok) problems.push(`${name}: ${mapping.type} in the template, ${JSON.stringify(v)} in the line`);
    }
  };
  walk(line, mappings.properties ?? {}, '');
  return problems;
}
