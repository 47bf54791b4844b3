// A load generator drives keep-alive HTTP/1.1 GETs at one port for a fixed
// time and reports the achieved rate; which tool does it is interchangeable.

export interface LoadResult {
  requestsPerSecond: number;
  requests: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  errors: number;
  /** The same errors by kind, for a human reading a failure. */
  errorDetail: string;
}

export interface LoadGenerator {
  readonly describe: string;
  run(port: number, durationS: number): Promise<LoadResult>;
}
