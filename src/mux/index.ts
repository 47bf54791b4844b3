// Importing a mux registers it.
import './pt';
import './h1';

export { selectMux, type MuxFactory } from './registry';
