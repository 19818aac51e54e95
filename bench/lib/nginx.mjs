// nginx as the CDN in front of the origin: a caching reverse proxy on a
// loopback port, configured in a temp folder, with proxy_cache_lock on so a
// burst of listeners for the same URL costs the origin one request.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, sleep } from './origin.mjs';

export function nginxConfig({ dir, port, originUrl }) {
  const p = (name) => path.join(dir, name);
  return `
# Written by bench/lib/nginx.mjs for one benchmark run.
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 2;
daemon off;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${p('client_temp')};
  proxy_temp_path ${p('proxy_temp')};
  fastcgi_temp_path ${p('fastcgi_temp')};
  uwsgi_temp_path ${p('uwsgi_temp')};
  scgi_temp_path ${p('scgi_temp')};
  proxy_cache_path ${p('cache')} levels=1:2 keys_zone=djcast:10m max_size=1g inactive=10m use_temp_path=off;
  upstream origin { server ${new URL(originUrl).host}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      # The CDN part: obey the origin's Cache-Control, one fill per URL at a time, revalidate with ETags.
      proxy_cache djcast;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 30s;
      proxy_cache_lock_age 30s;
      proxy_cache_revalidate on;
      proxy_cache_use_stale updating error timeout;
      proxy_cache_background_update on;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`;
}

export async function startNginx(dir, originUrl) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig({ dir, port, originUrl }));
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  let spawnError = null;
  child.once('error', (error) => (spawnError = error));
  const exited = new Promise((resolve) => child.once('close', resolve));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (spawnError?.code === 'ENOENT') throw new Error('nginx is not installed: apt-get install nginx');
    if (spawnError) throw spawnError;
    if (child.exitCode !== null) {
      const log = readFileSync(path.join(dir, 'error.log'), 'utf8');
      throw new Error(`nginx exited with code ${child.exitCode}: ${stderr}${log}`);
    }
    try {
      await fetch(`${url}/readyz`);
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`nginx did not listen within 10 s: ${stderr}`);
    await sleep(50);
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
