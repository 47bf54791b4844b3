// A frontend's HTTP head limits, from its http.maxRequestLine and http.maxHeaderSize: here, beside
// the configuration, because listener/frontend.ts sets them per frontend and http/'s readers
// enforce them, and listener/ does not import http/.

/** How big a message head may be, in bytes. */
export interface HeadLimits {
  /** The request line, and any single field line. */
  maxLine: number;
  /** The whole head: start line, field lines and their line ends. */
  maxHead: number;
}

/** As large as common clients send (long cookies, long URLs), small enough to bound a connection's buffer. */
export const DEFAULT_LIMITS: HeadLimits = { maxLine: 8 * 1024, maxHead: 32 * 1024 };
