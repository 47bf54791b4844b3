/**
 * Picks a bind's certificate by the server name a client asks for (SNI): an exact DNS name first,
 * then a wildcard "*.example.com" for a name one label below example.com, in the order the
 * certificates were given; with no match, or no name, the first certificate (the default).
 */
export class ServerNames<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcard = new Map<string, T>();

  constructor(
    entries: readonly { names: readonly string[]; value: T }[],
    private readonly fallback: T,
  ) {
    for (const { names, value } of entries) {
      for (const name of names) {
        const [map, key] = name.startsWith('*.') ? [this.wildcard, name.slice(2)] : [this.exact, name];
        if (!map.has(key)) map.set(key, value);
      }
    }
  }

  pick(servername: string | undefined): T {
    if (!servername) return this.fallback;
    const name = servername.toLowerCase().replace(/\.$/, '');
    const dot = name.indexOf('.');
    return this.exact.get(name) ?? (dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined) ?? this.fallback;
  }
}
