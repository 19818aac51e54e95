// A process of real-time listeners, driven over IPC by the listener rows
// (fork this file). Each listener is a raw loopback TCP connection that
// sends one GET and then reads at the stream's bitrate, as a player does:
// it may get `prebufferSeconds` ahead, then its socket is paused until
// playback catches up (so the server sees backpressure, not a fast
// reader). A listener keeps up when its buffer never runs dry: the bytes
// it has are never more than `prebufferSeconds` behind real time.
//
// Messages in: {type:'open', url, count, bytesPerSecond, prebufferSeconds, perTick}
//              {type:'report'} {type:'close'}
// Messages out: {type:'opened', ok, failed, statuses, openSeconds}, {type:'report', ...}, {type:'closed'}

import net from 'node:net';

const listeners = [];
let rate = 16_000;
let prebuffer = 2;
let ticker = null;

function openOne(target, headers) {
  return new Promise((resolve) => {
    const l = {
      socket: null,
      started: 0,
      body: 0,
      header: Buffer.alloc(0),
      status: 0,
      paused: false,
      worst: -Infinity,
      ended: false,
      error: null,
    };
    const socket = net.connect({ host: target.hostname, port: Number(target.port) });
    l.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      socket.write(headers);
    });
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        resolve(l);
      }
    };
    socket.on('data', (chunk) => {
      if (!l.status) {
        l.header = Buffer.concat([l.header, chunk]);
        const end = l.header.indexOf('\r\n\r\n');
        if (end < 0) return;
        l.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(l.header.toString('latin1', 0, 16))?.[1] ?? 0);
        l.started = performance.now();
        l.body = l.header.length - end - 4;
        l.header = null;
        settle();
      } else {
        l.body += chunk.length;
      }
      if (l.body >= allowed(l, performance.now())) {
        socket.pause();
        l.paused = true;
      }
    });
    socket.on('error', (error) => {
      l.error = error.message;
      settle();
    });
    socket.on('close', () => {
      l.ended = true;
      settle();
    });
  });
}

const allowed = (l, now) => rate * ((now - l.started) / 1000 + prebuffer);

function tick() {
  const now = performance.now();
  for (const l of listeners) {
    if (!l.status || l.ended) continue;
    const allow = allowed(l, now);
    // Measured from 3 s after the answer: the buffer a player would have.
    if (now - l.started > 3000) l.worst = Math.max(l.worst, (allow - l.body) / rate);
    if (l.paused && l.body < allow) {
      l.paused = false;
      l.socket.resume();
    }
  }
}

async function open({ url, count, bytesPerSecond, prebufferSeconds = 2, perTick = 20 }) {
  rate = bytesPerSecond;
  prebuffer = prebufferSeconds;
  const target = new URL(url);
  const headers = `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: djcast-bench\r\nAccept: */*\r\n\r\n`;
  ticker ??= setInterval(tick, 50);
  const started = performance.now();
  const batch = [];
  for (let i = 0; i < count; i++) {
    batch.push(openOne(target, headers).then((l) => listeners.push(l)));
    if (batch.length % perTick === 0) await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(batch);
  const statuses = {};
  for (const l of listeners) statuses[l.status || l.error || 'none'] = (statuses[l.status || l.error || 'none'] ?? 0) + 1;
  const ok = listeners.filter((l) => l.status === 200).length;
  return { type: 'opened', ok, failed: listeners.length - ok, statuses, openSeconds: (performance.now() - started) / 1000 };
}

function report() {
  const now = performance.now();
  const live = listeners.filter((l) => l.status === 200);
  const behind = live.map((l) => l.worst);
  const keptUp = live.filter((l) => !l.ended && l.worst < prebuffer).length;
  const bytes = live.reduce((n, l) => n + l.body, 0);
  const rates = live.map((l) => l.body / Math.max(0.001, (now - l.started) / 1000));
  return {
    type: 'report',
    listeners: live.length,
    keptUp,
    ended: live.filter((l) => l.ended).length,
    worstBehindSeconds: behind.length ? Math.max(...behind) : null,
    minBytesPerSecond: rates.length ? Math.min(...rates) : null,
    bytes,
  };
}

process.on('message', async (m) => {
  if (m.type === 'open') process.send(await open(m));
  else if (m.type === 'report') process.send(report());
  else if (m.type === 'close') {
    clearInterval(ticker);
    ticker = null;
    for (const l of listeners) l.socket.destroy();
    listeners.length = 0;
    process.send({ type: 'closed' });
  }
});
process.on('disconnect', () => process.exit(0));
