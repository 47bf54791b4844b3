// Merging of the configuration layers with nconf: objects merge key by key across layers, while
// arrays and scalars from a higher layer replace the lower one's outright.
//
// Two nconf traits need care. Its merge builds the result out of the input objects themselves and
// then writes later layers into them, so every layer is deep-copied first. And it splits keys on
// ":" while merging, so a name such as "a:b" would turn into nested keys; such keys are escaped on
// the way in and restored on the way out.

import nconf from 'nconf';
import { isRecord } from './problems';

/**
 * @param layers highest precedence first
 * @returns a fresh object; null in any layer removes the key, so an override can unset a value or
 *   drop an entry inherited from a lower layer (e.g. --set frontends.echo=null).
 */
export function mergeLayers(layers: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  const provider = new nconf.Provider();
  layers.forEach((layer, i) => provider.add(`layer${i}`, { type: 'literal', store: escapeKeys(layer) }));
  const merged: unknown = provider.get();
  return isRecord(merged) ? (restoreKeys(merged) as Record<string, unknown>) : {};
}

/** "__proto__" is escaped too: nconf assigns keys with plain `=`, which would swap the prototype. */
function escapeKeys(value: unknown): unknown {
  return mapTree(value, escapeKey, false);
}

function escapeKey(key: string): string {
  const escaped = key.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'));
  return escaped === '__proto__' ? '%5F_proto__' : escaped;
}

function restoreKeys(value: unknown): unknown {
  return mapTree(value, (key) => key.replace(/%(25|3A|5F)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), true);
}

/** A deep copy with renamed keys; Object.fromEntries keeps a "__proto__" key as an ordinary key. */
function mapTree(value: unknown, rename: (key: string) => string, dropNulls: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => mapTree(v, rename, false));
  if (!isRecord(value)) return value;
  const entries = Object.entries(value).filter(([, v]) => !(dropNulls && v === null));
  return Object.fromEntries(entries.map(([k, v]) => [rename(k), mapTree(v, rename, dropNulls)]));
}
