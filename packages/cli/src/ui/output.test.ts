import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Output } from './output.js';

function stream(isTTY: boolean) {
  const s = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return { s, text: () => text };
}

const rows = [{ id: 'str_1', name: 'Friday' }];
const columns = [
  { header: 'id', get: (r: { id: string }) => r.id },
  { header: 'name', get: (r: { name: string }) => r.name },
];

describe('Output', () => {
  it('writes human results to stdout and messages to stderr', () => {
    const [out, err] = [stream(false), stream(false)];
    const output = new Output({ json: false, stdout: out.s, stderr: err.s, env: {} });
    output.table(rows, columns);
    output.info('a hint');
    expect(out.text()).toBe('ID     NAME\nstr_1  Friday\n');
    expect(err.text()).toBe('[info] a hint\n');
  });

  it('prints no human result under --json, only what printJson gets', () => {
    const [out, err] = [stream(true), stream(true)];
    const output = new Output({ json: true, stdout: out.s, stderr: err.s, env: {} });
    output.table(rows, columns);
    output.result('ignored');
    output.printJson(rows);
    expect(JSON.parse(out.text())).toEqual(rows);
    expect(output.fancy).toBe(false);
  });

  it('animates a spinner only on a terminal, never under --json or NO_COLOR', async () => {
    const work = () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), 200));
    const cases = [
      { tty: true, json: false, env: {}, spins: true },
      { tty: false, json: false, env: {}, spins: false },
      { tty: true, json: true, env: {}, spins: false },
      { tty: true, json: false, env: { NO_COLOR: '1' }, spins: false },
    ];
    for (const c of cases) {
      const err = stream(c.tty);
      const output = new Output({ json: c.json, stdout: stream(false).s, stderr: err.s, env: c.env });
      expect(await output.spin('Checking…', work)).toBe('done');
      expect(err.text().includes('Checking…'), JSON.stringify(c)).toBe(c.spins);
    }
  });

  it('draws a progress bar on a terminal and is a no-op elsewhere', () => {
    const tty = stream(true);
    const bar = new Output({ json: false, stdout: stream(false).s, stderr: tty.s, env: {} }).progress(1000, 'Uploading');
    bar.update(500);
    bar.stop();
    expect(tty.text()).toContain('Uploading');

    const pipe = stream(false);
    const none = new Output({ json: false, stdout: stream(false).s, stderr: pipe.s, env: {} }).progress(1000, 'Uploading');
    none.update(500);
    none.stop();
    expect(pipe.text()).toBe('');
  });

  it('draws the upload bar on a terminal in human units (size, rate, time left), from the clock it is given', () => {
    const [out, err] = [stream(false), stream(true)];
    let now = 1_000_000;
    const output = new Output({ json: false, stdout: out.s, stderr: err.s, env: {} });
    const MiB = 1024 * 1024;
    const bar = output.progress(48 * MiB, 'Uploading', { unit: 'bytes', now: () => now });
    now += 5000;
    bar.update(12 * MiB);
    bar.stop();
    expect(err.text()).toContain('Uploading [');
    expect(err.text()).toContain('] 12.0 MiB of 48.0 MiB  2.4 MiB/s  ETA 15s');
    expect(out.text()).toBe('');
  });

  it('draws no bar off a terminal', () => {
    const [out, err] = [stream(false), stream(false)];
    const bar = new Output({ json: false, stdout: out.s, stderr: err.s, env: {} }).progress(100, 'Uploading', { unit: 'bytes' });
    bar.update(50);
    bar.stop();
    expect(err.text()).toBe('');
  });
});
