// `djcast doctor`: is the server reachable, which version, which backends are
// live, and does the CLI's credential work. Pure of oclif; the command renders.
import { isDjcastApiError, type Health, type User } from '@djcast/sdk';

export interface DoctorReport {
  api_url: string;
  reachable: boolean;
  error?: string;
  cli_version: string;
  server_version?: string;
  versions_compatible?: boolean;
  backends?: Record<string, string>;
  auth: {
    status: 'logged_in' | 'not_logged_in' | 'rejected' | 'unknown';
    via?: string;
    email?: string;
    detail?: string;
  };
}

export interface DoctorDeps {
  apiUrl: string;
  cliVersion: string;
  health: () => Promise<Health>;
  /** Absent when the CLI holds no credential. */
  me?: () => Promise<User>;
  /** How the CLI authenticates: "stored login (dj@example.com)" or "DJCAST_TOKEN". */
  via?: string;
  notLoggedInReason?: string;
}

export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const report: DoctorReport = {
    api_url: deps.apiUrl,
    reachable: false,
    cli_version: deps.cliVersion,
    auth: { status: 'unknown' },
  };
  try {
    const health = await deps.health();
    report.reachable = true;
    report.server_version = health.version;
    report.versions_compatible = versionsCompatible(deps.cliVersion, health.version);
    report.backends = health.backends;
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
    return report;
  }

  if (!deps.me) {
    report.auth = { status: 'not_logged_in', detail: deps.notLoggedInReason };
    return report;
  }
  try {
    const me = await deps.me();
    report.auth = { status: 'logged_in', via: deps.via, email: me.email };
  } catch (error) {
    if (isDjcastApiError(error) && error.status === 401) {
      report.auth = { status: 'rejected', via: deps.via, detail: error.detail };
    } else {
      report.auth = { status: 'unknown', via: deps.via, detail: error instanceof Error ? error.message : String(error) };
    }
  }
  return report;
}

/** Same major version, and the same minor while the major is 0 (semver's promise for 0.x). */
export function versionsCompatible(cli: string, server: string): boolean {
  const [a, b] = [parse(cli), parse(server)];
  if (!a || !b) return false;
  return a[0] === b[0] && (a[0] !== 0 || a[1] === b[1]);
}

function parse(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** Human lines, one check per line. */
export function renderDoctor(report: DoctorReport): string[] {
  const ok = '✓';
  const bad = '✗';
  const warn = '!';
  if (!report.reachable) return [`${bad} API        ${report.api_url} is not reachable: ${report.error ?? 'unknown error'}`];
  const lines = [`${ok} API        ${report.api_url} is reachable`];
  lines.push(
    report.versions_compatible
      ? `${ok} Version    server ${report.server_version}, cli ${report.cli_version}`
      : `${warn} Version    server ${report.server_version}, cli ${report.cli_version}: they may not work together; update the CLI`,
  );
  const backends = Object.entries(report.backends ?? {});
  lines.push(`${ok} Backends   ${backends.length ? '' : 'none reported'}`.trimEnd());
  const width = Math.max(0, ...backends.map(([name]) => name.length));
  for (const [name, value] of backends) lines.push(`    ${name.padEnd(width)}  ${value}`);
  const { auth } = report;
  if (auth.status === 'logged_in') lines.push(`${ok} Auth       logged in as ${auth.email} via ${auth.via}`);
  else if (auth.status === 'not_logged_in')
    lines.push(`${warn} Auth       not logged in${auth.detail ? `: ${auth.detail}` : ''}`);
  else if (auth.status === 'rejected')
    lines.push(`${bad} Auth       the credential from ${auth.via} was rejected: ${auth.detail}`);
  else lines.push(`${warn} Auth       could not check: ${auth.detail ?? 'unknown'}`);
  return lines;
}
