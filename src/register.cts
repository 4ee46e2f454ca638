// The CJS entry: `node --require @org/otel-monitor/register app.js`. The preload is synchronous
// (no top-level await), so Node's require(esm) can load it.
require('./index.js');
