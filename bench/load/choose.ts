// wrk when present (or asked for), autocannon otherwise, so the bench always
// runs but uses the better client when it can.

import type { LoadChoice } from '../lib/options';
import { which } from '../lib/which';
import { autocannonGenerator } from './autocannon';
import type { LoadGenerator } from './load';
import { wrkGenerator } from './wrk';

export function chooseLoad(choice: LoadChoice, connections: number, timeoutS = 10): LoadGenerator {
  const wrk = which('wrk');
  if (choice === 'wrk' && wrk === null) throw new Error('--load wrk: wrk is not on PATH (bench/install-tools.sh installs it)');
  if (choice !== 'autocannon' && wrk !== null) return wrkGenerator(wrk, connections, timeoutS);
  return autocannonGenerator(connections, timeoutS);
}
