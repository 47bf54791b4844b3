// Ferry's layers, checked by `npm run deps` (in CI after the type-check). The folders are the
// layers in the order data flows: receiver -> listener -> connection -> mux -> stream -> backend,
// over proto/ (messages), config/, log/ and lib/. An import may go down that order, never up, and
// never round: two layers that share a type keep it in a file of its own, apart from the code
// (a -t file, as HAProxy's types/*-t.h).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle, even of type-only imports, ties layers together: no file can be read, tested or moved without the others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-to-entries',
      comment: 'master/, workers/ and bin/ are the programs built from src/; src/ is the library they use and never calls back up.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(master|workers|bin)/' },
    },
    {
      name: 'transport-not-to-http',
      comment: 'listener/, conn/, stream/ and backend/ carry any protocol; only the HTTP muxes (mux/) and services/ know HTTP.',
      severity: 'error',
      from: { path: '^src/(listener|conn|stream|backend)/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'conn-below-sessions',
      comment: 'A connection (sockets, handles, TLS) comes before any mux, stream or backend decides what to do with it.',
      severity: 'error',
      from: { path: '^src/conn/' },
      to: { path: '^src/(listener|mux|stream|backend)/' },
    },
    {
      name: 'backend-below-streams',
      comment: 'backend/ (servers, queues, balancing, pools) is the end of the chain: streams and muxes use it, it knows none of them.',
      severity: 'error',
      from: { path: '^src/backend/' },
      to: { path: '^src/(listener|mux|stream)/' },
    },
    {
      name: 'sessions-below-listener',
      comment: 'mux/ and stream/ carry what the listener accepted; what they read of a frontend is a type of their own (StreamFrontend).',
      severity: 'error',
      from: { path: '^src/(mux|stream)/' },
      to: { path: '^src/listener/' },
    },
    {
      name: 'listener-only-down',
      comment: 'listener/ accepts and hands down the chain (conn, mux, stream, backend); it knows no HTTP, UDP, services, control or OS code.',
      severity: 'error',
      from: { path: '^src/listener/' },
      to: { path: '^src/', pathNot: '^src/(listener|conn|mux|stream|backend|proto|config|log|lib)/' },
    },
    {
      name: 'proto-pure',
      comment: 'proto/ is the wire: types and codecs the master and threads exchange, so it may import only config/, lib/ and itself.',
      severity: 'error',
      from: { path: '^src/proto/' },
      to: { path: '^(src|master|workers|bin)/', pathNot: '^src/(proto|config|lib)/' },
    },
    {
      name: 'lib-imports-nothing',
      comment: 'lib/ is the bottom: leaf helpers that import nothing of ferry, so that anything may use them.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^(src|master|workers|bin)/' },
    },
  ],
  options: {
    // Type-only imports count: `import type` cycles are cycles of the design, even though tsc erases them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  },
};
