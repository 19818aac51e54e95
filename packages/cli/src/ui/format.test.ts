import { describe, expect, it } from 'vitest';
import { formatValue, renderRecord, renderTable } from './format.js';

describe('renderTable', () => {
  const columns = [
    { header: 'id', get: (r: { id: string; name: string; tags: string[] }) => r.id },
    { header: 'name', get: (r: { id: string; name: string; tags: string[] }) => r.name },
    { header: 'tags', get: (r: { id: string; name: string; tags: string[] }) => r.tags },
  ];

  it('aligns every column to its widest cell, with an upper-case header and no trailing spaces', () => {
    const text = renderTable(
      [
        { id: 'str_1', name: 'Friday set', tags: ['a', 'b'] },
        { id: 'str_22', name: 'Sunday\nmorning', tags: [] },
      ],
      columns,
    );
    expect(text.split('\n')).toEqual(['ID      NAME            TAGS', 'str_1   Friday set      a, b', 'str_22  Sunday morning  -']);
  });

  it('prints the header alone for no rows', () => {
    expect(renderTable([], columns)).toBe('ID  NAME  TAGS');
  });
});

describe('renderRecord', () => {
  it('aligns keys and shows empty values as a dash', () => {
    const user = { id: 'usr_1', display_name: null, scopes: ['streams:read', 'streams:write'] };
    const text = renderRecord(user, [
      { header: 'id', get: (u) => u.id },
      { header: 'display name', get: (u) => u.display_name },
      { header: 'scopes', get: (u) => u.scopes },
    ]);
    expect(text.split('\n')).toEqual(['id:           usr_1', 'display name: -', 'scopes:       streams:read, streams:write']);
  });
});

describe('formatValue', () => {
  it('renders nested objects as key=value pairs and booleans as words', () => {
    expect(formatValue({ database: 'sqlite', storage: 'local' })).toBe('database=sqlite, storage=local');
    expect(formatValue(false)).toBe('false');
    expect(formatValue(undefined)).toBe('-');
  });
});
