/**
 * A message's header (or trailer) fields in arrival order: the name as sent, its lower-case form
 * for lookups, and the value without surrounding whitespace. One array holds the three of each field
 * in turn: no object per field, and one array to grow per message where three would each take the
 * 17 slots V8 gives an array at its first push (issue 14: 0.9 KB a request).
 */
export class Fields {
  private readonly at: string[] = [];

  get length(): number {
    return this.at.length / 3;
  }

  add(raw: string, value: string): void {
    this.at.push(raw, raw.toLowerCase(), value);
  }

  /** The i-th field's name as sent. */
  raw(i: number): string {
    return this.at[3 * i];
  }

  /** The i-th field's name in lower case. */
  name(i: number): string {
    return this.at[3 * i + 1];
  }

  value(i: number): string {
    return this.at[3 * i + 2];
  }

  /** Whether there is a `name` field (lower case). */
  has(name: string): boolean {
    return this.indexOf(name) !== -1;
  }

  /** The first value of `name` (lower case). */
  get(name: string): string | undefined {
    const i = this.indexOf(name);
    return i === -1 ? undefined : this.value(i);
  }

  count(name: string): number {
    let n = 0;
    for (let i = 0; i < this.length; i++) if (this.name(i) === name) n++;
    return n;
  }

  /** Every comma-separated element of every `name` field, lower case, empty elements dropped. */
  list(name: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.length; i++) {
      if (this.name(i) !== name) continue;
      for (const part of this.value(i).split(',')) {
        const item = part.trim().toLowerCase();
        if (item !== '') out.push(item);
      }
    }
    return out;
  }

  /** "Name: value\r\n" for each field `keep` accepts (by lower-case name). */
  serialize(keep: (name: string) => boolean): string {
    let out = '';
    for (let i = 0; i < this.length; i++) if (keep(this.name(i))) out += `${this.raw(i)}: ${this.value(i)}\r\n`;
    return out;
  }

  private indexOf(name: string): number {
    for (let i = 0; i < this.length; i++) if (this.name(i) === name) return i;
    return -1;
  }
}
