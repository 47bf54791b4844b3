import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'bin', 'ferry.js');

export type LogLine = Record<string, unknown> & { msg: string; pid: number };

const running = new Set<FerryProcess>();
// However a test ends, no master or worker outlives the test run.
process.on('exit', () => {
  for (const f of running) f.killAll();
});

export interface StartOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Resolve once the master logs "ready" (default), or right after spawning. */
  waitReady?: boolean;
  timeoutMs?: number;
  /** Open-file limit for the master and its workers. */
  fdLimit?: number;
  /** A command that runs the master and execs ferry once it has done its part, e.g. ["setpriv", "--reuid=65534", ...] or systemd-socket-activate and its options. */
  prefix?: string[];
}

/** A ferry master started as a child process, with its JSON log lines collected as they arrive. */
export class FerryProcess {
  readonly logs: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: (() => void)[] = [];
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly proc: ChildProcess,
    /** The master CLI socket this ferry was given. */
    readonly control: string,
  ) {
    running.add(this);
    let partial = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          // log.format "journal": the syslog priority before the JSON, kept as `priority`.
          const journal = /^<(\d)>/.exec(line);
          const log = JSON.parse(journal === null ? line : line.slice(3)) as LogLine;
          if (journal !== null) log.priority = Number(journal[1]);
          this.logs.push(log);
        } catch {
          // Not a log line.
        }
      }
      this.notify();
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve) =>
      proc.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        running.delete(this);
        this.notify();
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Pids of every worker process the master has started, in order. */
  get workerPids(): number[] {
    return this.logs.filter((l) => l.msg === 'worker started').map((l) => l.worker as number);
  }

  /** Waits for a log line matching `match` (beyond the first `skip` matching ones). */
  async waitLog(match: (l: LogLine) => boolean, timeoutMs = 10_000, skip = 0): Promise<LogLine> {
    let found: LogLine | undefined;
    await this.until(() => (found = this.logs.filter(match)[skip]) !== undefined, timeoutMs, 'log line');
    return found!;
  }

  async waitMsg(msg: string, timeoutMs?: number): Promise<LogLine> {
    return this.waitLog((l) => l.msg === msg, timeoutMs);
  }

  /** Resolves when `condition` holds, re-evaluated on every new output; rejects after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (!condition()) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${what}\nstderr: ${this.stderr}\nlast logs: ${this.stdout.slice(-3000)}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (check()) this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.waiters.push(waiter);
    });
  }

  /** Sends `signal` to the master and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exitStatus === undefined) this.proc.kill(signal);
    const timer = setTimeout(() => this.killAll(), timeoutMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  killAll(): void {
    for (const pid of [this.pid, ...this.workerPids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

let controls = 0;

export async function startFerry(config: object | undefined, opts: StartOptions = {}): Promise<FerryProcess> {
  // Each ferry gets a master socket of its own.
  const control = tmpPath(`master-${++controls}.sock`);
  const args = ['start', ...(config === undefined ? [] : ['-c', writeConfig(config)]), '--set', `global.masterSocket=${control}`, ...(opts.args ?? [])];
  const command = [...(opts.prefix ?? []), process.execPath, CLI, ...args];
  const [file, ...argv] = opts.fdLimit === undefined ? command : ['sh', '-c', `ulimit -n ${opts.fdLimit} && exec "$@"`, 'sh', ...command];
  const f = new FerryProcess(spawn(file, argv, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] }), control);
  if (opts.waitReady ?? true) {
    await Promise.race([
      f.waitMsg('ready', opts.timeoutMs ?? 15_000),
      f.exited.then(({ code }) => {
        throw new Error(`ferry exited with ${code} before ready\nstderr: ${f.stderr}\nstdout: ${f.stdout}`);
      }),
    ]);
  }
  return f;
}

/** Writes `config` to `file`, signals a reload and waits for its outcome line ("reload done" or "reload refused…"). */
export async function reloadWith(ferry: FerryProcess, file: string, config: object, signal: NodeJS.Signals = 'SIGHUP'): Promise<LogLine> {
  const isOutcome = (l: LogLine): boolean => l.msg === 'reload done' || l.msg.startsWith('reload refused');
  const done = ferry.logs.filter(isOutcome).length;
  writeFileSync(file, JSON.stringify(config));
  ferry.proc.kill(signal);
  return ferry.waitLog(isOutcome, 15_000, done);
}

/** Runs the CLI to completion; `prefix` is a command that runs it, as for startFerry. */
export function runCli(args: string[], env: Record<string, string> = {}, prefix: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const [file, ...argv] = [...prefix, process.execPath, CLI, ...args];
    const p = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'ferry-test-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
let configs = 0;

export function writeConfig(config: object): string {
  const file = join(tmp, `config-${++configs}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function tmpPath(name: string): string {
  return join(tmp, name);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
