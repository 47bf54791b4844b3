/** The responses the proxy makes itself: short, closed, with the reason phrase as the body. */

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

const cache = new Map<number, Buffer>();

/**
 * The whole response for `status`. Each always closes the connection: after a refusal or a failure
 * the proxy cannot tell where the client's next request would begin, or does not want one.
 */
export function proxyResponse(status: number): Buffer {
  let response = cache.get(status);
  if (response === undefined) {
    const reason = REASONS[status] ?? 'Error';
    const body = proxyText(status);
    response = Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\nCache-Control: no-cache\r\n\r\n${body}`, 'latin1');
    cache.set(status, response);
  }
  return response;
}

/** The body of the proxy's own response for `status`: its code and reason phrase. */
export function proxyText(status: number): string {
  return `${status} ${REASONS[status] ?? 'Error'}\n`;
}
