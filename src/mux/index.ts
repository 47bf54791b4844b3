// Importing a mux registers it.
import './pt';
import './h1';
import './h2';

export { selectMux, type MuxFactory } from './registry';
