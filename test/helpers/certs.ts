import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpPath } from './ferry';

/** A throwaway CA in a temporary directory that signs server certificates, made with openssl. */
export class TestCa {
  readonly dir: string;
  readonly cert: string;
  private readonly key: string;
  private serial = 0;

  constructor(name: string) {
    this.dir = tmpPath(name);
    mkdirSync(this.dir, { recursive: true });
    this.cert = join(this.dir, 'ca.crt');
    this.key = join(this.dir, 'ca.key');
    openssl('req', '-x509', ...EC_KEY, '-nodes', '-keyout', this.key, '-out', this.cert, '-subj', '/CN=ferry test CA', '-days', '2');
  }

  get pem(): string {
    return readFileSync(this.cert, 'utf8');
  }

  /**
   * A certificate for `names` (subjectAltName DNS entries; none: the CN only), its key, and both in
   * one PEM; valid for `days` (-1: expired already).
   */
  issue(label: string, names: string[], cn = names[0] ?? label, days = 2): { cert: string; key: string; pem: string } {
    const base = join(this.dir, `${label}-${++this.serial}`);
    const [cert, key, csr, ext] = ['.crt', '.key', '.csr', '.ext'].map((e) => base + e);
    openssl('req', '-new', ...EC_KEY, '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}/O=${label}`);
    writeFileSync(ext, names.length > 0 ? `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n` : 'basicConstraints=CA:FALSE\n');
    openssl('x509', '-req', '-in', csr, '-CA', this.cert, '-CAkey', this.key, '-set_serial', String(Date.now() * 100 + this.serial), '-days', String(days), '-extfile', ext, '-out', cert);
    return { cert, key, pem: readFileSync(cert, 'utf8') + readFileSync(key, 'utf8') };
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
