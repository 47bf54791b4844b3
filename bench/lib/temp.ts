// Config files for ferry and haproxy live in one temp directory that is
// removed on any exit, so aborted runs leave nothing behind.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup';

let dir: string | null = null;

function tempDir(): string {
  if (dir === null) {
    const created = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-'));
    dir = created;
    onCleanup(() => fs.rmSync(created, { recursive: true, force: true }));
  }
  return dir;
}

let counter = 0;

export function writeTempFile(baseName: string, content: string): string {
  counter += 1;
  const file = path.join(tempDir(), `${counter}-${baseName}`);
  fs.writeFileSync(file, content);
  return file;
}

/** A fresh path in the temp directory for a program to create (a Unix socket). */
export function tempPath(baseName: string): string {
  counter += 1;
  return path.join(tempDir(), `${counter}-${baseName}`);
}
