import { pack, unpack } from 'msgpackr';

/** The largest request the master reads; anything bigger is refused, not buffered. */
export const MAX_REQUEST = 64 * 1024;

/** The most commands one request may carry (separated by ";" or new lines). */
export const MAX_COMMANDS = 100;

export interface Reply {
  ok: boolean;
  /** For people: what `ferry ctl` prints. */
  lines: string[];
  /** For scripts: the same facts as plain data (`ferry ctl --json`). */
  data?: unknown;
}

/** `commands`: each command's words, in the order sent; each gets a reply packet of its own, in that order. */
export type Decoded = { ok: true; commands: string[][]; text: boolean } | { ok: false; error: string; text: boolean };

/**
 * A packet is a msgpackr map `{ command: "reload" }`, or plain text. Either holds one command or
 * several separated by ";" or new lines, as HAProxy's CLI takes them: `printf 'show stat\nshow
 * sess\n'` gets two replies.
 */
export function decodeRequest(packet: Buffer): Decoded {
  if (packet.length > MAX_REQUEST) return { ok: false, error: `request too large (${packet.length} bytes, at most ${MAX_REQUEST})`, text: true };
  const text = !isMsgpackMap(packet[0]);
  if (text) return commands(packet.toString('utf8'), true);
  try {
    const request = unpack(packet) as { command?: unknown };
    if (typeof request?.command !== 'string') return { ok: false, error: 'a request is a map with a "command" string, such as { command: "reload" }', text };
    return commands(request.command, false);
  } catch (err) {
    return { ok: false, error: `malformed msgpack request: ${(err as Error).message}`, text };
  }
}

export function encodeReply(reply: Reply, text: boolean): Buffer {
  if (!text) return pack(reply);
  return Buffer.from(`${reply.ok ? '' : 'error: '}${reply.lines.join('\n')}\n`);
}

export function encodeRequest(command: string): Buffer {
  return pack({ command });
}

/**
 * How many replies a request of `line` gets: one per command, or one error. The client counts them
 * as the master does, so that it knows when the last one is in.
 */
export function replyCount(line: string): number {
  const split = splitCommands(line);
  return split.length === 0 || split.length > MAX_COMMANDS ? 1 : split.length;
}

function commands(line: string, text: boolean): Decoded {
  const list = splitCommands(line);
  if (list.length === 0) return { ok: false, error: 'empty command; try "help"', text };
  if (list.length > MAX_COMMANDS) return { ok: false, error: `too many commands in one request (${list.length}, at most ${MAX_COMMANDS}): send them in several`, text };
  return { ok: true, commands: list, text };
}

/** The commands of a line, each as its words; empty ones (";;", a trailing new line) are skipped. */
function splitCommands(line: string): string[][] {
  return line
    .split(/[;\n]/)
    .map((command) => command.trim().split(/\s+/).filter((w) => w.length > 0))
    .filter((words) => words.length > 0);
}

/** msgpack maps start with 0x80-0x8f (fixmap), 0xde or 0xdf: no printable command line does. */
function isMsgpackMap(first: number | undefined): boolean {
  return first !== undefined && ((first >= 0x80 && first <= 0x8f) || first === 0xde || first === 0xdf);
}
