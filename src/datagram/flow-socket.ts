import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { FlowClient } from './flow';
import { adoptConnected, pauseReading, rawHandle, resumeReading } from './dgram-handle';

/** What a flow socket's datagrams go to. */
export interface FlowSocketOwner {
  /** A datagram from the flow's client. */
  fromClient(data: Buffer, client: RemoteInfo): void;
  /**
   * A datagram of someone else: one that reached the socket between its bind and its connect, when
   * it was one more unconnected socket on the frontend's address. It is handled as the frontend's.
   */
  stray(data: Buffer, from: RemoteInfo): void;
}

/**
 * A flow's own socket on the frontend's address and port, connected to its client: Linux delivers a
 * datagram to the socket that matches its four-tuple exactly before any unconnected one, so the
 * client's datagrams reach the flow's owner thread without being read elsewhere and redispatched,
 * and replies leave from the frontend's address and port as before. SO_REUSEADDR (on this socket and
 * on the master's) lets it bind beside the frontend's socket.
 */
export class FlowSocket {
  /** Connected: replies leave through it. Until then they leave through the frontend's socket. */
  ready = false;
  private readonly socket: Socket;
  private closed = false;

  private constructor(
    family: 4 | 6,
    private readonly client: FlowClient,
    owner: FlowSocketOwner,
  ) {
    this.socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: true });
    this.socket.on('message', (data, from) => (this.isClient(from) ? owner.fromClient(data, from) : owner.stray(data, from)));
    // A client that is gone answers with ICMP port unreachable: the flow idles out as it would anyway.
    this.socket.on('error', () => {});
  }

  /** Binds beside the frontend's socket (`host`, `port`) and connects to the client. */
  static open(family: 4 | 6, host: string, port: number, client: FlowClient, owner: FlowSocketOwner): FlowSocket {
    const s = new FlowSocket(family, client, owner);
    s.socket.bind({ address: host, port, exclusive: true }, () => {
      // A failed connect is reported as an 'error': the flow keeps replying through the frontend's socket.
      if (!s.closed) s.socket.connect(client.port, client.address, () => (s.ready = !s.closed));
    });
    return s;
  }

  /** Takes over a flow socket an older generation handed over, connected already. */
  static adopt(family: 4 | 6, fd: number, client: FlowClient, owner: FlowSocketOwner): FlowSocket {
    const s = new FlowSocket(family, client, owner);
    adoptConnected(s.socket, fd, client.port, client.address, (err) => (s.ready = err === undefined || err === null));
    return s;
  }

  send(data: Buffer): void {
    this.socket.send(data);
  }

  /** For the hand-over: reading stops (datagrams wait in the kernel buffer) and the handle goes. */
  leave(): object {
    pauseReading(this.socket);
    return rawHandle(this.socket);
  }

  /** The hand-over failed: the flow goes on here. */
  stay(): void {
    resumeReading(this.socket);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    this.socket.close();
  }

  private isClient(from: RemoteInfo): boolean {
    return from.port === this.client.port && from.address === this.client.address;
  }
}
