// Importing a mux registers it.
import './pt';

export { selectMux, type MuxFactory } from './registry';
