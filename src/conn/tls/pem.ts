// Reading one certificate file: its certificate chain and its private key, in the file itself or in
// a key file beside it. Every refusal says what is wrong with which file and what to do.

import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Certificate } from '../../config/types';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** A certificate, or why the file cannot be one. */
export type Loaded = { ok: true; certificate: Certificate } | { ok: false; error: string };

/** `keyFile`: where the key is when not in the file itself (NAME.key beside it by default). */
export function loadCertificateFile(file: string, keyFile?: string): Loaded {
  const text = readText(file, JSON.stringify(file));
  if (typeof text !== 'string') return { ok: false, error: text.error };
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const chain = blocks.filter((b) => b[1] === 'CERTIFICATE').map((b) => b[0]);
  const keys = blocks.filter((b) => b[1].endsWith('PRIVATE KEY')).map((b) => b[0]);
  if (chain.length === 0) {
    const found = keys.length > 0 ? 'a private key but no certificate' : 'no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)';
    return fail(file, `holds ${found}; give files that start with the certificate chain`);
  }
  if (keys.length > 1) return fail(file, `holds ${keys.length} private keys; a file holds one certificate chain and its own key`);
  const keyPath = keys.length === 1 && keyFile === undefined ? file : (keyFile ?? keyFileBeside(file));
  let key: string | undefined = keyPath === file ? keys[0] : undefined;
  if (key === undefined) {
    const keyText = readText(keyPath, `${JSON.stringify(file)} has no private key, and its key file ${JSON.stringify(keyPath)}`);
    if (typeof keyText !== 'string') return { ok: false, error: `${keyText.error} (put the key after the certificate chain in the file, or in ${JSON.stringify(keyPath)})` };
    key = [...keyText.matchAll(PEM_BLOCK)].find((b) => b[1].endsWith('PRIVATE KEY'))?.[0];
    if (key === undefined) return fail(keyPath, 'holds no PEM private key (no "-----BEGIN PRIVATE KEY-----" block)');
  }
  return check(file, keyPath, chain, key);
}

/** "site.pem" and "site.crt" take their key from "site.key" when they do not hold it. */
export function keyFileBeside(file: string): string {
  return join(dirname(file), `${basename(file, extname(file))}.key`);
}

function check(file: string, keyFile: string, chain: string[], key: string): Loaded {
  if (key.startsWith('-----BEGIN ENCRYPTED') || key.includes('Proc-Type: 4,ENCRYPTED')) {
    return fail(keyFile, 'holds an encrypted private key, and ferry cannot ask for a passphrase; store it decrypted (openssl pkey -in KEY -out KEY.plain) and readable only by root');
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chain[0]);
  } catch (err) {
    return fail(file, `its certificate does not parse (${(err as Error).message}); replace it with a PEM certificate`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    return fail(keyFile, `its private key does not parse (${(err as Error).message}); replace it with a PEM private key`);
  }
  if (!leaf.checkPrivateKey(keyObject)) {
    const where = keyFile === file ? 'the key in the file' : `the key in ${JSON.stringify(keyFile)}`;
    return fail(file, `${where} does not match its certificate (${oneLine(leaf.subject)}); pair the certificate with its own key`);
  }
  const cert = chain.join('\n');
  try {
    // node:tls loads only where a certificate is read.
    (require('node:tls') as typeof import('node:tls')).createSecureContext({ cert, key });
  } catch (err) {
    return fail(file, `TLS cannot use it: ${(err as Error).message}`);
  }
  return { ok: true, certificate: { file, keyFile, cert, key, names: namesOf(leaf) } };
}

/** DNS subjectAltNames; the CN only when there is none (as clients check it). */
function namesOf(cert: X509Certificate): string[] {
  const dns = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  if (dns.length > 0) return dns;
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1];
  return cn === undefined ? [] : [cn.toLowerCase()];
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'cannot be read (permission denied): the master reads certificates as the user ferry starts as, before workers drop privileges; give that user read access',
  EISDIR: 'is a directory; name files, or give the directory alone',
};

/** The file's text, or why it cannot be read, as a sentence that starts with `what`. */
function readText(file: string, what: string): string | { error: string } {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return { error: `${what} ${READ_ERRORS[code] ?? `cannot be read: ${(err as Error).message}`}` };
  }
}

function fail(file: string, reason: string): { ok: false; error: string } {
  return { ok: false, error: `${JSON.stringify(file)} ${reason}` };
}

function oneLine(subject: string): string {
  return subject.split('\n').join(', ');
}

/** The CA certificates of a file, each checked to parse, or why the file cannot serve as a CA. */
export function loadCaFile(file: string): { ok: true; certs: string[] } | { ok: false; error: string } {
  const text = readText(file, `CA file ${JSON.stringify(file)}`);
  if (typeof text !== 'string') return { ok: false, error: text.error };
  const certs = [...text.matchAll(PEM_BLOCK)].filter((b) => b[1] === 'CERTIFICATE').map((b) => b[0]);
  if (certs.length === 0) return fail(file, 'holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block); give the CA certificates that sign the servers\' certificates');
  for (const cert of certs) {
    try {
      new X509Certificate(cert);
    } catch (err) {
      return fail(file, `holds a CA certificate that does not parse (${(err as Error).message}); replace it with a PEM certificate`);
    }
  }
  return { ok: true, certs };
}
