import type { Departure, Session } from './session';

/** Sends a session's sockets on; resolves with whether they left (only then are this side's copies closed). */
export type SendSession = (departure: Departure) => Promise<boolean>;

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
  const parked = Promise.all(waiting.map((s) => s.handOver(generation)));
  await Promise.all(holding.map(async (s) => depart(s, await s.handOver(generation), send)));
  const departures = await parked;
  await Promise.all(waiting.map((s, i) => depart(s, departures[i], send)));
}

async function depart(session: Session, departure: Departure | undefined, send: SendSession): Promise<void> {
  if (departure === undefined) return;
  if (await send(departure)) session.handedOver();
  else session.terminate('K');
}
