/**
 * A message's header (or trailer) fields in arrival order: the name as sent, its lower-case form
 * for lookups, and the value without surrounding whitespace. Parallel arrays: no object per field.
 */
export class Fields {
  readonly raw: string[] = [];
  readonly names: string[] = [];
  readonly values: string[] = [];

  get length(): number {
    return this.names.length;
  }

  add(raw: string, value: string): void {
    this.raw.push(raw);
    this.names.push(raw.toLowerCase());
    this.values.push(value);
  }

  /** The first value of `name` (lower case). */
  get(name: string): string | undefined {
    const at = this.names.indexOf(name);
    return at === -1 ? undefined : this.values[at];
  }

  count(name: string): number {
    let n = 0;
    for (const each of this.names) if (each === name) n++;
    return n;
  }

  /** Every comma-separated element of every `name` field, lower case, empty elements dropped. */
  list(name: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] !== name) continue;
      for (const part of this.values[i].split(',')) {
        const item = part.trim().toLowerCase();
        if (item !== '') out.push(item);
      }
    }
    return out;
  }

  /** "Name: value\r\n" for each field `keep` accepts (by lower-case name). */
  serialize(keep: (name: string) => boolean): string {
    let out = '';
    for (let i = 0; i < this.names.length; i++) if (keep(this.names[i])) out += `${this.raw[i]}: ${this.values[i]}\r\n`;
    return out;
  }
}
