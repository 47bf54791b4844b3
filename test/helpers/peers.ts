// Real peers started by the PROXY protocol and TLS-to-servers tests: nginx as a server, HAProxy in
// front of ferry. Each runs in the foreground in a directory of its own, on a loopback port; a test
// whose binary is absent skips, saying so (.ci/run installs both).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tmpPath } from './ferry';
import { freePort } from './net';

const NGINX = ['/usr/sbin/nginx', 'nginx'].find((b) => spawnSync(b, ['-v']).status === 0);
const HAPROXY = ['/usr/sbin/haproxy', 'haproxy'].find((b) => spawnSync(b, ['-v']).status === 0);

/** Why nginx tests skip, or undefined when nginx is here. */
export const NO_NGINX = NGINX === undefined ? 'nginx is not installed (Debian: apt-get install nginx-light; .ci/run installs it)' : undefined;
export const NO_HAPROXY = HAPROXY === undefined ? 'haproxy is not installed (Debian: apt-get install haproxy; .ci/run installs it)' : undefined;

export interface Peer {
  port: number;
  /** What the peer wrote on its stderr and error log so far. */
  readonly output: string;
  stop(): Promise<void>;
}

let peers = 0;
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * nginx with one `server` block, `body` inside it after `listen 127.0.0.1:PORT LISTEN`; `{{dir}}`
 * in `body` stands for its directory (for certificates written there).
 */
export async function nginx(listen: string, body: string): Promise<Peer> {
  const dir = tmpPath(`nginx-${++peers}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${port} ${listen}; ${body.replaceAll('{{dir}}', dir)} }
}
`,
  );
  return started(NGINX!, ['-p', dir, '-c', conf, '-e', `${dir}/error.log`], port, join(dir, 'error.log'));
}

/** HAProxy in TCP mode on a fresh port in front of 127.0.0.1:`to`, with `serverOptions` on its server line. */
export async function haproxy(to: number, serverOptions: string): Promise<Peer> {
  const dir = tmpPath(`haproxy-${++peers}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    `defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend in
  bind 127.0.0.1:${port}
  default_backend out
backend out
  server ferry 127.0.0.1:${to} ${serverOptions}
`,
  );
  return started(HAPROXY!, ['-db', '-f', conf], port);
}

async function started(binary: string, args: string[], port: number, log?: string): Promise<Peer> {
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let output = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const peer: Peer = {
    port,
    get output() {
      return output + (log === undefined ? '' : readQuietly(log));
    },
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      running.delete(proc);
    },
  };
  // Listening once a connection opens; bounded, and failing with what the peer said.
  for (const deadline = Date.now() + 10_000; !(await opens(port)); ) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      await peer.stop();
      throw new Error(`${binary} did not listen on ${port}: ${peer.output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return peer;
}

function readQuietly(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function opens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
