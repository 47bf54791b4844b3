import type { Backend } from '../backend/backend';
import type { HttpService } from '../services';
import type { Termination, Who } from '../proto/termination';
import { bodyReader } from './body';
import type { BodyReader } from './body-reader-t';
import { logRequest } from './access-log';
import type { Exchange } from './exchange-t';
import { HttpRefusal } from './refusal';
import { Reply } from './reply';
import type { RequestHead } from './request-head';
import type { ClientSide } from './client-side-t';

/**
 * A request answered by a built-in HTTP service (HAProxy's applets): the response goes out at
 * once, from the thread, with no server connection; a request body is then read and dropped so
 * that the connection can take the next request. One access-log line, with "<name>" as server.
 */
export class ServiceExchange implements Exchange {
  readonly waiting = false;
  readonly server: string;
  private readonly body: BodyReader | undefined;
  private bytesIn: number;
  private bytesOut = 0;
  private status = 0;
  private keepAlive = false;
  private respondedAt = 0;
  private done = false;
  private reason: string | undefined;
  /** The service's answer is on its way: body bytes wait until it has gone out. */
  private answering = false;

  constructor(
    private readonly client: ClientSide,
    readonly req: RequestHead,
    private readonly backend: Backend,
    private readonly service: HttpService,
    private readonly acceptedAt: number,
    private readonly headAt: number,
    headBytes: number,
  ) {
    this.server = `<${service.name}>`;
    this.body = bodyReader(req.framing, client.ctx.frontend.limits);
    this.bytesIn = headBytes;
  }

  start(): void {
    const reply = this.service.reply(this.req, this.client.ctx);
    if (reply instanceof Reply) return this.respond(reply);
    // A service that asks the master first (stats): the answer goes out when it comes, if the client is still there.
    this.answering = true;
    void reply.then((r) => {
      this.answering = false;
      if (!this.done) this.respond(r);
    });
  }

  private respond(reply: Reply): void {
    const { client, req } = this;
    // A client that waits for 100 Continue before its body will not send it: close instead of waiting.
    this.keepAlive = req.keepAlive && !client.closing && (this.body === undefined || !req.fields.list('expect').includes('100-continue'));
    this.status = reply.status;
    this.respondedAt = Date.now();
    this.bytesOut = client.fixed(req, reply, this.keepAlive);
    if (this.body === undefined || !this.keepAlive) return this.complete();
    // The body flows in (and is dropped) under the client timeout.
    client.linkReady();
  }

  clientData(buf: Buffer): number {
    const { body } = this;
    if (body === undefined || this.done || this.answering) return 0;
    let end: number;
    try {
      end = body.read(buf, 0);
    } catch (e) {
      if (!(e instanceof HttpRefusal)) throw e;
      this.fail('P', e.reason);
      return buf.length;
    }
    this.bytesIn += end;
    if (body.done) this.complete();
    return end;
  }

  /** The response went out whole at start: nothing waits for the client to drain. */
  clientDrained(): void {}

  clientGone(who: Who): void {
    this.fail(who, who === 'c' ? 'client timeout while sending its body' : 'the client closed the connection');
  }

  terminate(who: Who): void {
    this.fail(who, 'killed');
  }

  private complete(): void {
    this.finish('--');
    this.client.responded(this.keepAlive);
  }

  /** The response is out already: the connection can only close. */
  private fail(who: Who, reason: string): void {
    if (this.done) return;
    this.reason = reason;
    this.finish(`${who}D`);
    this.client.failed(undefined);
  }

  private finish(termination: Termination): void {
    this.done = true;
    const now = Date.now();
    logRequest(this.client, this.req, {
      backend: this.backend.name,
      server: this.server,
      status: this.status,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      requestMs: this.headAt - this.acceptedAt,
      responseMs: this.respondedAt - this.headAt,
      totalMs: now - this.acceptedAt,
      termination,
      reason: this.reason,
      counters: [this.backend.traffic],
    });
  }
}
