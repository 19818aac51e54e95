// `djcast domain add|verify --wait`: poll the domain (asking the server to
// check DNS each time) until it is active, print each state change on stderr,
// exit 1 when it failed and 4 when the time runs out.
import type { Domain } from '@djcast/sdk';
import type { Follow } from './follow.js';
import { CliError } from './services/errors.js';
import { waitFor } from './services/wait.js';

export async function followDomain({ client, out, timeoutSeconds }: Follow, start: Domain): Promise<Domain> {
  let last = start.state;
  out.info(`${start.hostname}: ${start.state}`);
  const domain = await waitFor(() => client.domains.verify(start.id), {
    what: `${start.hostname} to become active`,
    resume: `djcast domain verify ${start.hostname} --wait`,
    timeoutMs: timeoutSeconds * 1000,
    intervalMs: 5000,
    until: (d) => d.state === 'active' || d.state === 'failed',
    onPoll: (d, elapsed) => {
      if (d.state !== last) {
        const missing = d.records.filter((r) => !r.found).map((r) => `${r.type} ${r.name}`);
        out.info(
          `${d.hostname}: ${d.state} (${Math.round(elapsed / 1000)}s)${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
        );
      }
      last = d.state;
    },
  });
  if (domain.state === 'failed') {
    throw new CliError(`${domain.hostname} failed: ${domain.failure_reason ?? 'no reason given'}`, {
      code: 'domain_failed',
      hint: `Fix the records, then remove and add it again (djcast domain remove ${domain.hostname}).`,
    });
  }
  return domain;
}
