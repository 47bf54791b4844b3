import type { Departure, Session, SessionTaker } from './session';

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

/**
 * A reload in place: each session that can carries on under the newer stack of the same thread
 * (`to`, asked at each move: reloads may follow each other), keeping its sockets, and says so with
 * `moved`; the others are handed over as to another process, at once.
 */
export async function moveSessions(sessions: Iterable<Session>, generation: number, to: () => SessionTaker, send: SendSession, moved: () => void): Promise<void> {
  const all = [...sessions];
  const moving = all.filter((s) => s.moveTo !== undefined).map(async (s) => {
    if (!(await s.moveTo!(to, generation, moved))) await handOverSessions([s], generation, send);
  });
  await Promise.all([handOverSessions(all.filter((s) => s.moveTo === undefined), generation, send), ...moving]);
}
