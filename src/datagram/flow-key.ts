import type { RemoteInfo } from 'node:dgram';
import type { BindConfig, FrontendConfig } from '../config/types';

/**
 * The key of a datagram that stands alone (flowKey "none"): it makes no flow table entry and has no
 * owner thread, so the thread that read it handles it.
 */
export const ALONE = '';

/** RFC 9000 caps connection ids at 20 bytes; longer ones, allowed by RFC 8999 for other versions, are refused. */
const MAX_DCID = 20;
const LONG_HEADER = 0x80;
/** Header form byte, version (4 bytes), DCID length byte. */
const LONG_PREFIX = 6;

/**
 * Which flow a client's datagram belongs to: a string every thread computes alike (the flow table key,
 * and what FlowOwners hashes), ALONE, or undefined when the datagram cannot be keyed (it is dropped and
 * counted as malformed). Keys always start with the bind's, so two binds never share a flow.
 */
export function flowKey(config: FrontendConfig, bind: BindConfig, data: Buffer, client: RemoteInfo): string | undefined {
  switch (config.flowKey) {
    case 'address':
      return `${bind.key} ${client.address}:${client.port}`;
    case 'none':
      return ALONE;
    case 'quic-dcid': {
      const dcid = quicDcid(data, config.quicDcidLength);
      return dcid === undefined ? undefined : `${bind.key} quic:${dcid.toString('hex')}`;
    }
  }
}

/**
 * The destination connection id of a QUIC packet (the first one of the datagram), following the
 * version-independent invariants of RFC 8999. Malformed, so undefined:
 * - an empty datagram, or one too short for the header it announces;
 * - a long header with a DCID length above 20;
 * - a long header with version 0: a Version Negotiation packet, which only servers send.
 * The fixed bit (0x40) is not checked: RFC 9287 lets endpoints that agreed on it send it cleared, and
 * only the QUIC server can tell whether they did. A short header carries no length, so the frontend's
 * `quicDcidLength` says how many bytes follow the first.
 */
function quicDcid(data: Buffer, shortLength: number): Buffer | undefined {
  if (data.length === 0) return undefined;
  if ((data[0] & LONG_HEADER) === 0) return data.length < 1 + shortLength ? undefined : data.subarray(1, 1 + shortLength);
  if (data.length < LONG_PREFIX || data.readUInt32BE(1) === 0) return undefined;
  const length = data[5];
  if (length > MAX_DCID || data.length < LONG_PREFIX + length) return undefined;
  return data.subarray(LONG_PREFIX, LONG_PREFIX + length);
}
