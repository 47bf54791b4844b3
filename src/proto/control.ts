import { pack, unpack } from 'msgpackr';

/** The largest request the master reads; anything bigger is refused, not buffered. */
export const MAX_REQUEST = 64 * 1024;

export interface Reply {
  ok: boolean;
  /** For people: what `ferry ctl` prints. */
  lines: string[];
  /** For scripts: the same facts as plain data (`ferry ctl --json`). */
  data?: unknown;
}

export type Decoded = { ok: true; words: string[]; text: boolean } | { ok: false; error: string; text: boolean };

/** A packet is a msgpackr map `{ command: "reload" }`, or a plain text command line. */
export function decodeRequest(packet: Buffer): Decoded {
  if (packet.length > MAX_REQUEST) return { ok: false, error: `request too large (${packet.length} bytes, at most ${MAX_REQUEST})`, text: true };
  const text = !isMsgpackMap(packet[0]);
  if (text) return words(packet.toString('utf8'), true);
  try {
    const request = unpack(packet) as { command?: unknown };
    if (typeof request?.command !== 'string') return { ok: false, error: 'a request is a map with a "command" string, such as { command: "reload" }', text };
    return words(request.command, false);
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

function words(line: string, text: boolean): Decoded {
  const list = line.trim().split(/\s+/).filter((w) => w.length > 0);
  if (list.length === 0) return { ok: false, error: 'empty command; try "help"', text };
  return { ok: true, words: list, text };
}

/** msgpack maps start with 0x80-0x8f (fixmap), 0xde or 0xdf: no printable command line does. */
function isMsgpackMap(first: number | undefined): boolean {
  return first !== undefined && ((first >= 0x80 && first <= 0x8f) || first === 0xde || first === 0xdf);
}
