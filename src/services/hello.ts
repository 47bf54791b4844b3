import type { Service } from './service';

/**
 * Greets at once with a complete HTTP/1.1 response, so both `curl` and `nc` show something without
 * sending a byte first, and says which worker answered. The request (if any) is read and dropped:
 * closing with unread bytes would make the kernel reset the connection.
 */
export const hello: Service = {
  name: 'hello',
  serve(client, { group, thread, generation }) {
    const body = `hello from ferry: pid ${process.pid}, group ${group}, thread ${thread}, generation ${generation}\n`;
    client.end(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    client.resume();
  },
};
