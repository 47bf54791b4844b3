import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** ferry's version, from its package.json (dist/src/ sits two levels below it). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
