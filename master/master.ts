import cluster from 'node:cluster';
import { join } from 'node:path';
import type { LoadOptions } from '../src/config/load';
import type { Config } from '../src/config/types';
import type { Logger } from '../src/log/log';
import { closeReceiver, closeShards, type BoundReceiver } from './binder';
import { preflight, type CheckStep, type PreflightStep } from './preflight';
import type { Reply } from '../src/proto/control';
import type { ServerAdmin, ServerState } from '../src/proto/server-push';
import { Commands, type ServiceView } from './commands';
import { ControlServer } from './control';
import { ServerAddresses } from './server-addresses';
import { ServerStates, changeLevel, type AdminChange, type Change } from './server-states';
import { DatagramGate } from './datagram-gate';
import { Generation, type GenerationHost } from './generation';
import { HandOverRelay } from './handover';
import { needsProcesses } from './in-place';
import { SystemdNotifier } from './notify';
import { DatagramDir } from './datagram-dir';
import type { PidFile } from './pidfile';
import { takeInheritedSockets } from './inherited';
import { ServiceStats } from './service-stats';
import { QuietGc } from '../src/lib/quiet-gc';

/** How long a reload's new generation may take to report every thread ready. */
const RELOAD_START_TIMEOUT_MS = 30_000;

/**
 * The master: binds every receiver once and keeps it, runs the current generation of workers that
 * accept on dups of those sockets, replaces it on reload, and stops the whole service on SIGTERM or
 * SIGINT. It never accepts a connection itself.
 */
export class Master {
  private current: Generation | undefined;
  /** Old generations still finishing their sessions after a reload. */
  private readonly draining = new Set<Generation>();
  private nextGeneration = 1;
  private reloading = false;
  private reloadAgain = false;
  /** Who asked for the reload that is about to run, waiting for its outcome. */
  private waiting: ((outcome: Reply) => void)[] = [];
  private control: ControlServer | undefined;
  private reloads = 0;
  /** A reload asked for new worker processes (an upgrade of ferry itself). */
  private reloadProcesses = false;
  private failedReloads = 0;
  private stopping = false;
  /** Passes what old generations hand over to the current one. */
  private readonly relay: HandOverRelay;
  /** Holds a new generation's UDP reading while the old generations' flows travel to it. */
  private readonly gate: DatagramGate;
  private exit: ((code: number) => void) | undefined;
  /** A reload's new generation while it starts. */
  private starting: Generation | undefined;
  private readonly startedAt = Date.now();
  private readonly servers: ServerStates;
  private readonly addresses: ServerAddresses;
  private readonly stats = new ServiceStats(this.view());
  private readonly commands = new Commands(this.view());
  private readonly systemd: SystemdNotifier;
  /** Sockets passed by the service manager, taken once: every configuration may use them. */
  private readonly inherited = takeInheritedSockets();
  /** Gives back, once reloads stop, what they left in the heap. */
  private readonly quietGc = new QuietGc();
  /** Where the workers' redispatch sockets live, from start to exit. */
  private datagramDir: DatagramDir | undefined;

  constructor(
    private config: Config,
    private readonly source: LoadOptions,
    private readonly log: Logger,
    /** --pidfile: written once everything is bound, removed at exit. */
    private readonly pidFile?: PidFile,
  ) {
    this.systemd = SystemdNotifier.fromEnv(process.env, log);
    this.servers = new ServerStates(log);
    this.addresses = new ServerAddresses(log, () => this.pushServers());
    this.gate = new DatagramGate(log);
    this.relay = new HandOverRelay(log, this.gate, () => this.current, (kind) => this.stats.counts.handedOver[kind]++);
  }

  /** Binds, starts the first generation and runs until stopped. Resolves with the exit code. */
  async run(): Promise<number> {
    const checked = await preflight(
      { config: this.config },
      {
        addresses: this.addresses,
        masterSocket: true,
        bind: {
          inherited: () => {
            this.inherited.log(this.log);
            return this.inherited;
          },
        },
      },
    );
    if (!checked.ok) {
      const { step, problems } = checked;
      const failed: Record<CheckStep, string> = { 'run-as': 'cannot run the workers', 'master-socket': 'cannot create the master socket', resolve: 'cannot resolve server addresses', bind: 'cannot bind' };
      this.log.fatal({ problems }, `${failed[step]}: nothing started`);
      // The run-as refusal, a single problem, is said on the first line.
      process.stderr.write(step === 'run-as' || step === 'master-socket' ? `ferry: cannot start: ${problems.join('; ')}\n` : `ferry: cannot start:\n${problems.map((p) => `  - ${p}\n`).join('')}`);
      return 1;
    }
    const { receivers } = checked;
    receivers.forEach((r) => this.announce(r));
    const { masterSocket, masterSocketAccess } = this.config.global;
    const control = new ControlServer(masterSocket, masterSocketAccess, (words) => this.commands.run(words), this.log);
    try {
      await control.listen();
    } catch (err) {
      receivers.forEach(closeReceiver);
      this.log.fatal({ err: (err as Error).message }, 'cannot create the master socket: nothing started');
      process.stderr.write(`ferry: cannot start: global.masterSocket "${control.path}": ${(err as Error).message}\n`);
      return 1;
    }
    this.control = control;
    this.log.info({ path: control.path }, 'master socket ready');
    try {
      this.datagramDir = DatagramDir.create();
    } catch (err) {
      receivers.forEach(closeReceiver);
      control.close();
      this.log.fatal({ err: (err as Error).message }, 'cannot create the datagram socket directory: nothing started');
      process.stderr.write(`ferry: cannot start: ${(err as Error).message}\n`);
      return 1;
    }
    try {
      this.pidFile?.write();
    } catch (err) {
      receivers.forEach(closeReceiver);
      control.close();
      this.datagramDir.remove();
      this.log.fatal({ err: (err as Error).message }, 'cannot write the pid file: nothing started');
      process.stderr.write(`ferry: cannot start: ${(err as Error).message}\n`);
      return 1;
    }

    cluster.setupPrimary({ exec: join(__dirname, '..', 'workers', 'worker.js') });
    const exited = new Promise<number>((resolve) => (this.exit = resolve));
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
    process.on('SIGHUP', () => void this.requestReload('SIGHUP'));
    // USR2 is the upgrade: new worker processes, which load ferry's code afresh.
    process.on('SIGUSR2', () => void this.requestReload('SIGUSR2', true));

    // The operators' settings saved before the last stop (global.stateFile) apply from the first worker on.
    this.servers.restore(this.config);
    const generation = this.newGeneration(this.config, receivers, false);
    this.current = generation;
    // No older generation: no flow to wait for.
    generation.readDatagrams();
    this.addresses.watch(this.config);
    this.startChecks(generation);
    this.stats.start();
    void generation.start().then(() => {
      if (this.stopping) return;
      this.log.info(this.describe(generation), 'ready');
      this.systemd.ready(`serving: generation ${generation.n} (${generation.config.global.groups} × ${generation.config.global.threads} threads)`);
    });
    return exited;
  }

  /** What the master CLI's commands see of the service. */
  private view(): ServiceView {
    const master = this;
    return {
      get config() {
        return master.config;
      },
      get configFile() {
        return master.source.file;
      },
      startedAt: this.startedAt,
      get reloads() {
        return master.reloads;
      },
      get failedReloads() {
        return master.failedReloads;
      },
      generations: () => [
        ...(this.current === undefined ? [] : [{ generation: this.current, role: 'current' as const }]),
        ...(this.starting === undefined ? [] : [{ generation: this.starting, role: 'starting' as const }]),
        ...[...this.draining].map((generation) => ({ generation, role: 'draining' as const })),
      ],
      reload: (source, processes) => this.requestReload(source, processes),
      administer: (ref, change, command) => this.administer(ref, change, command),
      checks: () => this.servers.checks(this.config),
      servers: () => ({ file: this.servers.stateFile, rows: this.servers.servers(this.config) }),
      stats: () => this.stats,
    };
  }

  /**
   * An operator's server setting reaches every live worker now, and later generations at their
   * start. It resolves once every live thread has it: a poll of every worker goes behind the
   * settings on the same channels, so its answers come after each thread has applied them, and a
   * connection made after the reply finds the setting in force in whichever thread takes it.
   */
  private async administer(ref: string, change: AdminChange, command: string): Promise<{ admin: ServerAdmin; state: ServerState; unsaved?: string }> {
    const { admin, state, change: changed, unsaved } = this.servers.change(this.config, ref, change, `master CLI: ${command}`);
    this.pushServers();
    if (changed !== undefined && changed.from !== changed.to) this.log[changeLevel(changed)]({ ...changed, weight: admin.weight }, 'server state changed');
    else this.log.info({ backend: admin.backend, server: admin.server, admin: admin.admin, weight: admin.weight }, 'server settings changed');
    await this.stats.poll();
    return { admin, state, ...(unsaved !== undefined && { unsaved }) };
  }

  /** The serving generation's servers are checked from now on, the master's only checks. */
  private startChecks(g: Generation): void {
    g.checker.start();
    const servers = g.checker.servers.length;
    if (servers > 0) this.log.info({ generation: g.n, servers }, 'health checks started');
  }

  /** Every thread hears of a change of a server; a change of state is logged, once, here. */
  private serverChanged(change: Change | undefined): void {
    if (change === undefined) return;
    if (change.from !== change.to) this.log[changeLevel(change)](change, 'server state changed');
    this.pushServers();
  }

  /** Every live worker gets the server settings, health and addresses in force again. */
  private pushServers(): void {
    for (const g of [this.current, this.starting, ...this.draining]) g?.pushServers();
  }

  /**
   * Reloads that arrive during a reload are folded into one more reload after it; each caller gets
   * the outcome of the reload that read the configuration after it asked.
   */
  private requestReload(source: string, processes = false): Promise<Reply> {
    if (this.stopping) return Promise.resolve({ ok: false, lines: ['ferry is stopping'] });
    this.log.info({ source, ...(processes && { processes }) }, 'reload requested');
    // A folded reload needs new processes if any of the requests asked for them.
    this.reloadProcesses ||= processes;
    const outcome = new Promise<Reply>((resolve) => this.waiting.push(resolve));
    if (this.reloading) this.reloadAgain = true;
    else void this.reloadLoop();
    return outcome;
  }

  private async reloadLoop(): Promise<void> {
    this.reloading = true;
    do {
      this.reloadAgain = false;
      const waiting = this.waiting.splice(0);
      const processes = this.reloadProcesses;
      this.reloadProcesses = false;
      this.systemd.reloading();
      const outcome = await this.reload(processes);
      if (!this.stopping) this.systemd.reloaded(outcome);
      waiting.forEach((w) => w(outcome));
    } while (this.reloadAgain && !this.stopping);
    this.reloading = false;
    this.waiting.splice(0).forEach((w) => w({ ok: false, lines: ['ferry is stopping'] }));
  }

  /**
   * Validates the configuration afresh, binds what it adds (keeping every unchanged socket and its
   * queue), starts the next generation on the sockets, and only once all its threads are ready lets
   * the old one stop accepting and drain. Any failure leaves the running generation as it was.
   */
  private async reload(processes: boolean): Promise<Reply> {
    const old = this.current!;
    const checked = await preflight(
      { source: this.source },
      { addresses: this.addresses, bind: { inherited: () => this.inherited, keep: old.receivers } },
    );
    if (!checked.ok) {
      const reasons: Record<PreflightStep, string> = {
        config: 'invalid configuration',
        certificates: 'certificates cannot be used',
        'run-as': 'cannot run the workers',
        'master-socket': 'the master socket cannot be made',
        resolve: 'server names do not resolve',
        bind: 'cannot bind',
      };
      return this.reloadFailed(reasons[checked.step], checked.problems);
    }
    const { config, receivers } = checked;
    const why = processes ? 'asked for' : needsProcesses(old.config, config);
    const next = this.newGeneration(config, receivers, true, why === undefined ? old : undefined);
    this.starting = next;
    try {
      await next.start(RELOAD_START_TIMEOUT_MS);
    } catch (err) {
      next.abort();
      this.starting = undefined;
      this.closeUnused(receivers);
      return this.reloadFailed(why === undefined ? 'the next generation did not start in the running workers' : 'new workers did not start', [(err as Error).message]);
    }
    this.starting = undefined;
    next.serves();
    if (this.stopping) {
      void next.stop(0).then(() => this.closeUnused(receivers));
      return { ok: false, lines: ['ferry is stopping'] };
    }
    this.current = next;
    this.config = config;
    this.addresses.watch(config);
    this.reloads++;
    this.stats.reloaded(true);
    this.startChecks(next);
    for (const server of this.servers.prune(config)) this.log.info({ server }, 'server settings dropped: the new configuration changes or removes that server');
    if (this.servers.restore(config)) this.pushServers();
    // A reload in place involves no UDP (needsProcesses): no flow to wait for.
    if (why !== undefined) this.gate.hold(next, old);
    this.retire(old);
    this.quietGc.touch();
    for (const r of receivers) {
      if (!old.receivers.some((o) => o.handle === r.handle && o.shards.length === r.shards.length)) this.announce(r);
    }
    this.log.info({ ...this.describe(next), reloads: this.reloads, draining: this.draining.size, ...(why === undefined ? { inPlace: true } : { processes: why }) }, 'reload done');
    return {
      ok: true,
      lines: [`reloaded: generation ${next.n} serves (${config.global.groups} × ${config.global.threads} threads); generation ${old.n} hands its sessions over and drains`],
    };
  }

  private reloadFailed(reason: string, problems: string[]): Reply {
    this.failedReloads++;
    this.stats.reloaded(false);
    this.log.error({ reason, problems, failedReloads: this.failedReloads, generation: this.current?.n }, 'reload refused: the running generation goes on unchanged');
    return { ok: false, lines: [`reload refused (${reason}); generation ${this.current?.n} goes on unchanged:`, ...problems.map((p) => `  - ${p}`)] };
  }

  /**
   * The old generation stops accepting, hands what can move over to the current one and drains the
   * rest; sockets no generation uses any more close after it.
   */
  private retire(old: Generation): void {
    this.draining.add(old);
    this.relay.begin(old.n);
    void old.stop(old.config.global.hardStopAfter, true).then(() => {
      this.draining.delete(old);
      this.quietGc.touch();
      this.closeUnused(old.receivers);
      if (old.hardStopped) this.stats.counts.hardStops++;
      this.log.info({ generation: old.n, handedOver: this.relay.end(old.n) + old.handedOverInPlace, closedAtHardStop: old.hardStopped }, 'old generation exited');
      this.finishStop();
    });
    // Too many generations draining at once: the oldest ones are cut short.
    const excess = this.draining.size - this.config.global.maxReloads;
    [...this.draining].slice(0, Math.max(0, excess)).forEach((g) => {
      this.log.warn({ generation: g.n, maxReloads: this.config.global.maxReloads }, 'too many old generations: hard-stopping the oldest');
      g.kill();
    });
  }

  /** Generation `n`: the current one, a draining one, or one starting. */
  private generationOf(n: number): Generation | undefined {
    return [this.current, this.starting, ...this.draining].find((g) => g?.n === n);
  }

  /** Sockets, or the shards of a bind that has fewer now, that no generation holds any more. */
  private closeUnused(receivers: readonly BoundReceiver[]): void {
    const live = new Set([this.current, ...this.draining].flatMap((g) => g?.receivers ?? []).flatMap((r) => r.shards));
    for (const r of receivers) {
      // An inherited socket stays open for the next configuration that takes it.
      const unused = r.inherited ? [] : r.shards.filter((h) => !live.has(h));
      if (unused.length === r.shards.length) {
        closeReceiver(r);
        this.log.info({ frontend: r.frontend, bind: r.bind.text }, 'receiver closed');
      } else if (unused.length > 0) {
        // Their queued connections move to the shards left (net.ipv4.tcp_migrate_req, set by the binder).
        closeShards(unused);
        this.log.info({ frontend: r.frontend, bind: r.bind.text, closed: unused.length, shards: r.shards.length - unused.length }, 'shards closed');
      }
    }
  }

  private stop(signal: NodeJS.Signals): void {
    const generations = [this.current!, ...this.draining];
    if (this.stopping) {
      this.log.warn({ signal }, 'second stop signal: closing every session now');
      return generations.forEach((g) => g.kill());
    }
    this.stopping = true;
    this.systemd.stopping();
    this.addresses.stop();
    const current = this.current!;
    this.log.info({ signal, hardStopAfterMs: this.config.global.hardStopAfter }, 'stopping: no new connections, waiting for sessions to end');
    void current.stop(this.config.global.hardStopAfter).then(() => {
      this.current = undefined;
      this.finishStop();
    });
    current.receivers.forEach(closeReceiver);
  }

  private finishStop(): void {
    if (!this.stopping || this.current !== undefined || this.draining.size > 0) return;
    this.stats.stop();
    this.control?.close();
    this.systemd.close();
    this.datagramDir?.remove();
    this.log.info('stopped');
    this.exit?.(0);
  }

  /** `from`: a reload in place, in the running workers of that generation. */
  private newGeneration(config: Config, receivers: BoundReceiver[], failFast: boolean, from?: Generation): Generation {
    const dir = this.datagramDir!;
    dir.allow(config.global.runAs);
    return new Generation(this.nextGeneration++, config, receivers, this.log, failFast, this.host(dir.path), from);
  }

  /** Where every generation's workers report: the hand-over relay, the datagram gate, server states. */
  private host(datagramDir: string): GenerationHost {
    return {
      datagramDir,
      handOver: (slot, handOver, sockets) => this.relay.relay(slot.generation, handOver, sockets),
      adopted: (_, id, closed) => this.relay.adopted(id, closed),
      quiet: (slot) => {
        const g = this.generationOf(slot.generation);
        if (g !== undefined) this.gate.quiet(g, slot);
      },
      flowsOut: (slot) => this.gate.flowsOut(slot),
      exited: (slot, pid, restarting) => {
        this.stats.exited(pid, restarting);
        this.relay.exited(slot);
        // A worker that dies takes with it the stacks older generations kept there after a reload in place.
        for (const g of this.draining) g.retiredIn(slot, 0);
      },
      retired: (slot, generation, handedOver) => {
        this.stats.counts.handedOver.session += handedOver;
        this.generationOf(generation)?.retiredIn(slot, handedOver);
      },
      counters: (_, pid, threads) => this.stats.folded(pid, threads),
      stats: (slot, ref, what) => void this.stats.answer(what).then((body) => slot.answerStats(ref, body)),
      servers: (c) => ({ ...this.servers.for(c), addresses: this.addresses.for(c) }),
      checked: (g, backend, server, result) => {
        if (g !== this.current) return;
        this.stats.checked(backend, server.name, result.ok);
        this.serverChanged(this.servers.checked(backend, server, result));
      },
      observed: (slot, msg) => {
        const g = this.generationOf(slot.generation);
        if (g === undefined) return;
        // Only the serving generation's reports count. A thread whose report changes nothing holds
        // the server DOWN on its own until it hears the master's view again.
        const change = g === this.current ? this.servers.observed(this.config, msg.backend, msg.server, msg.reason) : undefined;
        if (change !== undefined) this.serverChanged(change);
        else g.pushServers();
      },
    };
  }

  private announce(r: BoundReceiver): void {
    const shards = r.shards.length > 1 && { shards: r.shards.length, fds: r.shards.map((h) => h.fd) };
    this.log.info({ frontend: r.frontend, bind: r.bind.text, address: r.address, fd: r.handle.fd, ...shards }, r.inherited ? 'receiver inherited' : 'receiver bound');
  }

  private describe(g: Generation): Record<string, unknown> {
    return { generation: g.n, groups: g.config.global.groups, threads: g.config.global.threads, pids: g.slots.map((s) => s.pid) };
  }
}
