// postgres.js 3.4.9 keeps its connection queues in arrays that only shrink when a queue empties,
// and finds a connection to move with indexOf from the start. Under steady load a queue never
// empties, so each move scanned every entry it had ever held: the API-token GET on Postgres fell
// from 8.0k to 5.1k requests a second within 20 s. patches/postgres@3.4.9.patch compacts the
// queue and searches from its head; this checks the queue the server really loads.
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// The package's CommonJS entry is cjs/src/index.js; the server imports the ES module build in src/.
const queueFile = path.join(path.dirname(require.resolve('postgres')), '../../src/queue.js');
const { default: Queue } = (await import(queueFile)) as {
  default: <T>(initial?: T[]) => { length: number; push(x: T): T; shift(): T; remove(x: T): T | null };
};

describe('postgres.js connection queue (patched)', () => {
  it('keeps a queue that never empties cheap to search, and still FIFO', () => {
    const q = Queue<number>();
    q.push(-1);
    const started = performance.now();
    for (let i = 0; i < 200_000; i++) {
      q.push(i);
      // A connection moved out of the middle, then the oldest taken: the queue never empties.
      expect(q.remove(i)).toBe(i);
      q.push(i);
      q.shift();
    }
    // Unpatched, each remove scans every entry ever pushed: about 2e10 steps here.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(q.length).toBe(1);
    expect(q.shift()).toBe(199_999);
    expect(q.length).toBe(0);
    expect(q.remove(5)).toBeNull();
  });
});
