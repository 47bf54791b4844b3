import type { HandOver, HandOverPart } from './ipc';

/** Sends one cluster message with one socket; `sent` says whether it left. */
export type SendPart = (msg: HandOverPart, socket: object, sent: (err: Error | null) => void) => void;

/**
 * Sends a hand-over and its sockets over node's IPC channel, which carries one handle per message:
 * one part per socket, in order, the hand-over itself with the last. Every part is sent at once:
 * node keeps messages in order behind a handle until the other side has it, so a message sent after
 * this call (a thread's `flowsOut`, say) cannot overtake a part. `sent` is called once, when every
 * part has left or one could not.
 */
export function sendParts(handOver: HandOver, sockets: readonly object[], send: SendPart, sent: (err: Error | null) => void): void {
  if (sockets.length === 0) return sent(new Error(`hand-over ${handOver.id} has no socket`));
  let waiting = sockets.length;
  let failed = false;
  sockets.forEach((socket, i) => {
    const last = i === sockets.length - 1;
    send(last ? { type: 'handOverPart', id: handOver.id, handOver } : { type: 'handOverPart', id: handOver.id }, socket, (err) => {
      if (failed) return;
      if (err !== null) {
        failed = true;
        return sent(err);
      }
      if (--waiting === 0) sent(null);
    });
  });
}

/** Joins the parts `sendParts` sent, per hand-over id, until the last one completes it. */
export class PartJoiner {
  private readonly parts = new Map<string, object[]>();

  /** The hand-over with its sockets in order once its last part came; undefined until then. */
  take(msg: HandOverPart, socket: object): { handOver: HandOver; sockets: object[] } | undefined {
    const sockets = this.parts.get(msg.id) ?? [];
    sockets.push(socket);
    if (msg.handOver === undefined) {
      this.parts.set(msg.id, sockets);
      return undefined;
    }
    this.parts.delete(msg.id);
    return { handOver: msg.handOver, sockets };
  }

  /** The sender is gone: the sockets of hand-overs it never completed, for the caller to close. */
  abandon(): object[] {
    const sockets = [...this.parts.values()].flat();
    this.parts.clear();
    return sockets;
  }
}
