import { getSystemErrorName } from 'node:util';

/** A bind's errno in words that say what to do, for the kind of socket that failed. */
export function explain(errno: number, kind: 'tcp' | 'udp' | 'unix'): string {
  const name = getSystemErrorName(errno);
  switch (name) {
    case 'EADDRINUSE':
      if (kind === 'udp') return 'address already in use: another process receives there (see `ss -lunp`); stop it or choose another port';
      return kind === 'tcp'
        ? 'address already in use: another process listens there (see `ss -ltnp`); stop it or choose another port'
        : 'address already in use: another process listens on this socket; stop it or choose another path';
    case 'EACCES':
      return kind !== 'unix'
        ? 'permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE'
        : "permission denied: check the directory's permissions";
    case 'EADDRNOTAVAIL':
      return 'address not available: no interface of this host has that IP';
    case 'ENOENT':
      return 'the directory does not exist';
    default:
      return `${name} (${errno})`;
  }
}
