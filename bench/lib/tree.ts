// Direct children of a process, as the kernel lists them. Used to find
// ferry's worker and to tell the bench's own CPU use from a neighbour's.

import fs from 'node:fs';

export function childPidsSync(pid: number): number[] {
  try {
    const text = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.split(/\s+/).filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}
