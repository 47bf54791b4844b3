// Progress goes to stderr so stdout stays the table plus one JSON line that a
// script can take with `tail -n 1`.

export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}
