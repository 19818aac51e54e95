// Fails fast, with the command to run, when a system tool the tests drive for real is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const required: Array<[string, string]> = [
  ['ffmpeg', 'ffmpeg'],
  ['ffprobe', 'ffmpeg'],
  ['icecast2', 'icecast2'],
  ['clamd', 'clamav-daemon'],
  ['chromium', 'chromium'],
  ['prometheus', 'prometheus'],
  ['promtool', 'prometheus'],
  ['prometheus-alertmanager', 'prometheus-alertmanager'],
  ['amtool', 'prometheus-alertmanager'],
];

function found(bin: string): boolean {
  if (['/usr/bin/', '/usr/sbin/', '/usr/local/bin/'].some((dir) => existsSync(dir + bin))) return true;
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup() {
  const missing = required.filter(([bin]) => !found(bin));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    throw new Error(
      `Missing system tools the tests drive for real: ${missing.map(([b]) => b).join(', ')}. ` +
        `Install them with: apt-get install -y ${packages} (or run scripts/install-system-deps.sh as root).`,
    );
  }
}
