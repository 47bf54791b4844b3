// Importing this registers every mux; the HTTP ones load their code on first use.
import './pt';
import { registerLazyMux } from './registry';

registerLazyMux({ name: 'h1', mode: 'http', alpn: ['', 'http/1.1'] }, () => (require('./h1') as typeof import('./h1')).h1);
registerLazyMux({ name: 'h2', mode: 'http', alpn: ['h2'] }, () => (require('./h2') as typeof import('./h2')).h2);

export { selectMux, type MuxFactory } from './registry';
