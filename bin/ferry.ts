#!/usr/bin/env node
// First: names a missing native binding of node-unix-socket, before the imports below load it.
import './native-binding';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { closeReceiver } from '../master/binder';
import { takeInheritedSockets } from '../master/inherited';
import { leaveOptimizersOff } from '../master/no-optimizer';
import { Master } from '../master/master';
import { PidFile } from '../master/pidfile';
import { preflight, readConfig, type CheckStep } from '../master/preflight';
import { ServerAddresses } from '../master/server-addresses';
import { ConfigError, loadConfig, type LoadOptions } from '../src/config/load';
import { CONFIG_SCHEMA, LOG_FORMATS } from '../src/config/schema';
import type { Config } from '../src/config/types';
import { sendCommands } from '../src/control/client';
import { defaultMasterSocket } from '../src/control/path';
import { createLogger } from '../src/log/log';
import { version } from '../src/lib/version';

const HELP = `ferry — a zero-downtime TCP, HTTP and UDP reverse proxy and load balancer

Usage:
  ferry start [-c FILE] [--set KEY=VALUE ...] [--log-format json|text|journal] [--pidfile PATH]
                                               run in the foreground, logging to stdout; under
                                               systemd it reports to NOTIFY_SOCKET (sd_notify)
  ferry check [-c FILE] [--set KEY=VALUE ...] [--no-bind]
                                               validate a configuration, try its master socket's
                                               path and its binds
  ferry reload [-s PATH | -c FILE] [--processes]
                                               reload the running ferry and wait for the outcome
  ferry ctl [-s PATH | -c FILE] [--json] COMMAND...
                                               send a command to the running ferry's master ("help");
                                               several, separated by ";", are answered in order
  ferry schema                                 print the JSON Schema that configurations are checked
                                               against, for editors: ferry schema > ferry.schema.json,
                                               then "$schema": "./ferry.schema.json" in the file
  ferry --help | --version

Options:
  -c, --config FILE    configuration file, JSON with // and /* */ comments and trailing commas (default:
                       the embedded configuration: a "hello" service on 127.0.0.1:8080, an "echo"
                       service on 127.0.0.1:8081 and the stats page on 127.0.0.1:8404)
  --set KEY=VALUE      override one setting, e.g. --set global.groups=4 (value parsed as JSON when it
                       parses); repeatable. Environment variables FERRY_global__groups=4 do the same.
                       Precedence: --set > FERRY_* > file > defaults.
  --log-format FORMAT  json: one JSON object a line; text: a line for people; journal: JSON lines
                       after their syslog priority (<3>), for journald (the default when stdout is
                       journald's, per JOURNAL_STREAM; else json). The same as
                       --set global.log.format=FORMAT
  --pidfile PATH       start only: write the master's pid to PATH once everything is bound; it is
                       removed when the master exits
  --no-bind            check only: do not try to bind the listening addresses (use this while ferry
                       itself holds them)
  -s, --socket PATH    reload, ctl: the master socket (default: global.masterSocket of the -c FILE,
                       else ${defaultMasterSocket()})
  --json               ctl: print the reply as JSON (one object a line, a line per command)
  --processes          reload: start new worker processes even where the running ones could take
                       the configuration in place (to run a newly installed ferry; SIGUSR2 does the same)

Exit status: 0 on success, 1 on a bad configuration or a failed start, 2 on bad usage.
`;

function usageError(message: string): number {
  process.stderr.write(`ferry: ${message}\nRun "ferry --help" for usage.\n`);
  return 2;
}

function load(source: LoadOptions): Config | undefined {
  const { file } = source;
  try {
    return loadConfig(source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return reportProblems(file, err.problems);
  }
}

function reportProblems(file: string | undefined, problems: string[]): undefined {
  const n = problems.length;
  process.stderr.write(`ferry: configuration ${file === undefined ? '(embedded)' : `"${file}"`} has ${n} problem${n === 1 ? '' : 's'}:\n`);
  for (const p of problems) process.stderr.write(`  - ${p}\n`);
  return undefined;
}

/** What check says when a step fails after the configuration was read, its certificates included. */
const CHECK_FAILED: Record<CheckStep, string> = {
  'run-as': 'cannot run here',
  'master-socket': 'its master socket cannot be made',
  resolve: 'names servers that do not resolve',
  bind: 'cannot be bound',
};

async function check(source: LoadOptions, bind: boolean): Promise<number> {
  const { file } = source;
  // Under socket activation, fd@ binds and binds at inherited addresses are checked against the passed sockets.
  const checked = await preflight({ source }, { addresses: new ServerAddresses(), masterSocket: true, bind: bind ? { inherited: takeInheritedSockets } : undefined });
  if (!checked.ok) {
    if (checked.step === 'config' || checked.step === 'certificates') reportProblems(file, checked.problems);
    else {
      process.stderr.write(`ferry: configuration ${file ?? '(embedded)'} is valid but ${CHECK_FAILED[checked.step]}:\n`);
      for (const p of checked.problems) process.stderr.write(`  - ${p}\n`);
    }
    return 1;
  }
  const { config, receivers } = checked;
  receivers.forEach(closeReceiver);
  const binds = Object.values(config.frontends).reduce((n, f) => n + f.bind.length, 0);
  process.stdout.write(
    `ferry: configuration ${file ?? '(embedded)'} is valid: ${Object.keys(config.frontends).length} frontends, ` +
      `${Object.keys(config.backends).length} backends, ${binds} binds${bind ? ', all bindable' : ''}\n`,
  );
  return 0;
}

/** Sends a command (or several, separated by ";") to a running master and prints each reply; exit 0 when all succeeded. */
async function control(command: string, socket: string | undefined, file: string | undefined, json: boolean): Promise<number> {
  let path = socket;
  if (path === undefined && file !== undefined) {
    const config = load({ file, overrides: [], env: process.env });
    if (config === undefined) return 1;
    path = config.global.masterSocket;
  }
  try {
    const replies = await sendCommands(path ?? defaultMasterSocket(), command);
    for (const reply of replies) {
      if (json) process.stdout.write(`${JSON.stringify(reply)}\n`);
      else (reply.ok ? process.stdout : process.stderr).write(`${reply.lines.join('\n')}\n`);
    }
    return replies.every((r) => r.ok) ? 0 : 1;
  } catch (err) {
    process.stderr.write(`ferry: ${(err as Error).message}\n`);
    return 1;
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        set: { type: 'string', multiple: true },
        'no-bind': { type: 'boolean' },
        'log-format': { type: 'string' },
        socket: { type: 'string', short: 's' },
        json: { type: 'boolean' },
        processes: { type: 'boolean' },
        pidfile: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    return usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(HELP), 0;
  if (values.version) return void process.stdout.write(`${version()}\n`), 0;
  const [command, ...rest] = positionals;
  if (command === undefined) return usageError('missing command (start, check, reload, ctl or schema)');
  if (command === 'schema') {
    if (rest.length > 0) return usageError(`unexpected argument "${rest[0]}"`);
    const given = Object.keys(values);
    if (given.length > 0) return usageError(`schema takes no options, found --${given[0]}`);
    return void process.stdout.write(`${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`), 0;
  }
  if (command === 'reload' || command === 'ctl') {
    if (command === 'reload' && rest.length > 0) return usageError(`unexpected argument "${rest[0]}"`);
    if (command === 'ctl' && rest.length === 0) return usageError('ctl needs a command, such as: ferry ctl help');
    if (values.processes && command !== 'reload') return usageError('--processes only applies to reload');
    return control(command === 'reload' ? (values.processes ? 'reload processes' : 'reload') : rest.join(' '), values.socket, values.config, values.json ?? false);
  }
  if (values.processes) return usageError('--processes only applies to reload');
  if (rest.length > 0) return usageError(`unexpected argument "${rest[0]}"`);
  if (command !== 'start' && command !== 'check') return usageError(`unknown command "${command}" (expected start, check, reload, ctl or schema)`);
  if (values['no-bind'] && command !== 'check') return usageError('--no-bind only applies to check');
  if (values.pidfile !== undefined && command !== 'start') return usageError('--pidfile only applies to start');
  if (values.pidfile === '') return usageError('--pidfile needs a path');
  if (values.socket !== undefined || values.json) return usageError('-s and --json apply to reload and ctl');
  const format = values['log-format'];
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format)) {
    return usageError(`--log-format: expected ${LOG_FORMATS.slice(0, -1).join(', ')} or ${LOG_FORMATS.at(-1)}, found "${format}"`);
  }

  // --log-format is a shorthand for the --set that takes the format to the workers with the configuration.
  const overrides = [...(values.set ?? []), ...(format === undefined ? [] : [`global.log.format=${format}`])];
  const source = { file: values.config, overrides, env: process.env };
  if (command === 'check') return check(source, !values['no-bind']);
  // The master reads the TLS certificates, as the user it starts as, before any worker drops privileges.
  const read = readConfig(source);
  if (!read.ok) {
    reportProblems(values.config, read.problems);
    return 1;
  }
  // Reloads read the configuration again from the same file, environment and --set options.
  const pidFile = values.pidfile === undefined ? undefined : new PidFile(resolve(values.pidfile));
  leaveOptimizersOff();
  return new Master(read.config, source, createLogger(read.config.global.log, { role: 'master' }), pidFile).run();
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`ferry: unexpected error: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
