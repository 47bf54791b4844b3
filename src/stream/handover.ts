import type { Detached } from './session';
import type { Session } from './session';

/** Sends a detached session's sockets on; resolves with whether they left (only then are this side's copies closed). */
export type SendSession = (detached: Detached) => Promise<boolean>;

/**
 * Hands every session that can move over to the next generation; those that cannot finish here.
 * Sessions waiting for a server slot leave the queue at once but travel last, once the sessions
 * holding the slots have left: the next generation then counts those slots taken first, and the
 * waiting sessions queue there behind each other rather than take them.
 */
export async function handOverSessions(sessions: Iterable<Session>, generation: number, send: SendSession): Promise<void> {
  const all = [...sessions];
  const waiting = all.filter((s) => s.waiting);
  const holding = all.filter((s) => !s.waiting);
  const parked = Promise.all(waiting.map((s) => s.detach(generation)));
  await Promise.all(holding.map(async (s) => handOver(s, await s.detach(generation), send)));
  const detached = await parked;
  await Promise.all(waiting.map((s, i) => handOver(s, detached[i], send)));
}

async function handOver(session: Session, detached: Detached | undefined, send: SendSession): Promise<void> {
  if (detached === undefined) return;
  if (await send(detached)) session.handedOver();
  else session.terminate('K');
}
