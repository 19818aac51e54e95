// Fails fast, with the command to run, when a system tool the tests drive for real is missing.
import { execFileSync } from 'node:child_process';

const required: Array<[string, string[], string]> = [
  ['ffmpeg', ['-version'], 'apt-get install ffmpeg'],
  ['ffprobe', ['-version'], 'apt-get install ffmpeg'],
];

export default function setup() {
  const missing: string[] = [];
  for (const [bin, args, hint] of required) {
    try {
      execFileSync(bin, args, { stdio: 'ignore' });
    } catch {
      missing.push(`${bin} (${hint})`);
    }
  }
  if (missing.length > 0) {
    throw new Error(`Missing system tools needed by the tests: ${missing.join(', ')}. Run scripts/install-system-deps.sh as root.`);
  }
}
