// The two ends of a client connection as a PROXY protocol header tells them (src/conn/proxy), kept
// with the connection and carried in its envelope on a hand-over: the address a header gave is the
// client's everywhere, in this generation and the next.

/** An IP address and port. */
export interface Endpoint {
  address: string;
  port: number;
}

/** What a PROXY header said of the connection it opened. */
export interface ProxyEnds {
  /** The client; absent for LOCAL (v2) and UNKNOWN (v1) headers, and for families without addresses. */
  source?: Endpoint;
  /** The address the client connected to, as the balancer in front saw it. */
  destination?: Endpoint;
  /** v2 TLVs kept: the ALPN protocol, the authority (SNI), the unique id (hex). */
  alpn?: string;
  authority?: string;
  uniqueId?: string;
}
