import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

const PEM_EXTENSIONS = ['.pem', '.crt'];

/** How problems name a kind of PEM path (a bind's certificates, a CA), and what its directory should hold. */
export interface PemKind {
  /** Before the path in a problem: '' or 'CA '. */
  readonly prefix: string;
  /** After "does not exist; ". */
  readonly give: string;
  /** After "holds no certificate file ". */
  readonly holds: string;
}

/**
 * The files a configured path stands for: a file itself; a directory its *.pem and *.crt files, in
 * name order (the first is the default). A string says why the path cannot serve.
 */
export function pemFilesOf(path: string, kind: PemKind): string[] | string {
  const named = `${kind.prefix}${JSON.stringify(path)}`;
  let directory: boolean;
  try {
    directory = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${named} ${code === 'ENOENT' ? `does not exist; ${kind.give}` : `cannot be read: ${(err as Error).message}`}`;
  }
  if (!directory) return [path];
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (err) {
    return `${kind.prefix}directory ${JSON.stringify(path)} cannot be listed: ${(err as Error).message}`;
  }
  const files = names.filter((n) => PEM_EXTENSIONS.includes(extname(n))).sort().map((n) => join(path, n));
  return files.length > 0 ? files : `${kind.prefix}directory ${JSON.stringify(path)} holds no certificate file ${kind.holds}`;
}
