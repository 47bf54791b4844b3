// A ferry for the shard and UDP-delivery measures: started from a configuration built around a free
// port, with its own master socket, ready once the master says so.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/free-port';
import { ferryCli } from '../lib/paths';

export interface BenchFerry {
  port: number;
  control: string;
  stop(): Promise<void>;
}

let started = 0;

export async function startFerryAt(config: (port: number) => object, port?: number): Promise<BenchFerry> {
  const at = port ?? (await freePort());
  const n = ++started;
  const file = join(tmpdir(), `ferry-bench-${process.pid}-${n}.json`);
  const control = join(tmpdir(), `ferry-bench-${process.pid}-${n}.sock`);
  writeFileSync(file, JSON.stringify(config(at)));
  const proc: ChildProcess = spawn(process.execPath, [ferryCli, 'start', '-c', file, '--set', `global.masterSocket=${control}`, '--set', 'global.log.level=info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (/"msg":"ready"/.test(out)) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`ferry exited with ${code} before ready`)));
  });
  proc.stdout!.resume();
  return {
    port: at,
    control,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
