// The parts of a request target that routing and balancing look at, found by index so that no
// string is made per request. The target is origin-form ("/a/b?q") but for absolute-form
// ("http://host/a/b?q", which a client talking to a proxy may send), authority-form (CONNECT) and "*".

/** Where the path begins: 0 in origin-form, after the authority in absolute-form; the length if there is none. */
export function pathStart(target: string): number {
  if (target.charCodeAt(0) === 0x2f) return 0;
  const scheme = target.indexOf('://');
  if (scheme === -1) return target.length;
  const slash = target.indexOf('/', scheme + 3);
  return slash === -1 ? target.length : slash;
}

/** Where the path ends: at the query string, or the end. */
export function pathEnd(target: string, start: number): number {
  const query = target.indexOf('?', start);
  return query === -1 ? target.length : query;
}

/** The authority of an absolute-form target, which stands for the Host field (RFC 9112 3.2.2); undefined in other forms. */
export function targetAuthority(target: string): string | undefined {
  if (target.charCodeAt(0) === 0x2f) return undefined;
  const scheme = target.indexOf('://');
  if (scheme === -1) return undefined;
  const end = pathStart(target);
  return target.slice(scheme + 3, end);
}
