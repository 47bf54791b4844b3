import type { Service } from './service';

/** Sends every byte back, and half-closes after the client does. */
export const echo: Service = {
  name: 'echo',
  serve(client) {
    client.pipe(client);
  },
};
