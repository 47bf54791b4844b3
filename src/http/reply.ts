
/**
 * A fixed response, built once: its bytes for each way a request can take it (with or without the
 * body, for HEAD; keeping or closing the connection; HTTP/1.0 clients told explicitly that it stays
 * open), so answering costs no allocation.
 */
export class Reply {
  private readonly variants: Buffer[] = [];
  /** The body, for a client that does not take HTTP/1.1 bytes (HTTP/2). */
  readonly content: Buffer;

  constructor(
    readonly status: number,
    readonly headers: readonly (readonly [string, string])[],
    body: string,
  ) {
    const content = (this.content = Buffer.from(body));
    // node:http only for its reason phrases, and only where a reply is built: a worker without HTTP never loads it.
    const { STATUS_CODES } = require('node:http') as typeof import('node:http');
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
    if (status !== 204 && status !== 304) head += `Content-Length: ${content.length}\r\n`;
    for (const bodyless of [false, true]) {
      for (const connection of ['', 'Connection: keep-alive\r\n', 'Connection: close\r\n']) {
        const headBytes = Buffer.from(`${head}${connection}\r\n`, 'latin1');
        this.variants.push(bodyless ? headBytes : Buffer.concat([headBytes, content]));
      }
    }
  }

  /** The bytes for a request with `method`, from an HTTP/1.`minor` client, the connection kept open or not. */
  bytes(method: string, minor: number, keepAlive: boolean): Buffer {
    const connection = !keepAlive ? 2 : minor === 0 ? 1 : 0;
    return this.variants[(method === 'HEAD' ? 3 : 0) + connection];
  }

  /** How many of `bytes` are the body. */
  bodyLength(method: string): number {
    return method === 'HEAD' ? 0 : this.variants[0].length - this.variants[3].length;
  }
}
