// The UDP options mean something only on a UDP frontend, and quicDcidLength only when flows are keyed
// by QUIC connection id: anywhere else they would be ignored, so they are refused instead.

import { isRecord, problem, type Problem } from './problems';

const UDP_ONLY = ['flowKey', 'quicDcidLength', 'maxFlowRate'] as const;

export function checkUdpOptions(name: string, frontend: unknown): Problem[] {
  if (!isRecord(frontend)) return [];
  const at = ['frontends', name];
  // An unknown mode is the schema's to report.
  if (frontend.mode === 'tcp' || frontend.mode === 'http') {
    return UDP_ONLY.filter((key) => frontend[key] !== undefined).map((key) => problem([...at, key], 'is a UDP option; it needs "mode": "udp"'));
  }
  if (frontend.quicDcidLength === undefined || frontend.flowKey === 'quic-dcid') return [];
  return [problem([...at, 'quicDcidLength'], `applies to "flowKey": "quic-dcid" only (the frontend's flowKey is ${JSON.stringify(frontend.flowKey ?? 'address')}); remove it or set "flowKey": "quic-dcid"`)];
}
