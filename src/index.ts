// The preload: `node --import @org/otel-monitor app.js`.
import { start } from './start.js';

start();

export { flush, shutdown } from './lifecycle.js';
