// How a session ended, in two letters as HAProxy's logs say it: who ended it, then at which stage.
// Who: '-' nobody (normal end), 'C' client abort or error, 'c' client timeout, 'S' server abort, error or
// refusal, 's' server timeout (also the queue's), 'P' the proxy (no usable server, a refused request, a
// closing client that sent too much), 'K' killed (hard stop).
// Stage: 'Q' waiting in the backend queue for a server slot, 'C' waiting for the server connection,
// 'D' data transfer, '-' normal end. HTTP adds 'R' reading the request (head or body) and 'H' waiting for
// the response head; TLS binds add 'T', the TLS handshake (only a handshake failure logs it: src/conn/tls/handshake.ts).
// 'L' is the last stage of all: ferry has sent that side its FIN and waits for it to close
// (timeout.clientFin, timeout.serverFin; src/conn/closing.ts).
export type Who = '-' | 'C' | 'c' | 'S' | 's' | 'P' | 'K';
export type Stage = '-' | 'T' | 'Q' | 'C' | 'D' | 'R' | 'H' | 'L';
export type Termination = `${Who}${Stage}`;

export const NORMAL: Termination = '--';
