// Logging cost with and without redaction, per call, for a typical request log record:
//   node bench/logger-redact.js   (after npm run build)
// pino writes to a stream that drops the line, so only the logger's own work is measured:
// plain pino, pino with our `redact` paths (what the app's own loggers get), and our logger's full
// redaction (those paths, nested secret keys and credentials in strings, the per-line pass).
import pino from 'pino';
import { pinoRedactPaths } from '../dist/logs/pino-redaction.js';
import { Redactor } from '../dist/processors/redaction.js';
import { DEFAULT_REDACT_KEYS } from '../dist/config.js';

const sink = { write() {} };
const redactor = new Redactor(DEFAULT_REDACT_KEYS);
const paths = pinoRedactPaths(DEFAULT_REDACT_KEYS);
const loggers = {
  'pino, no redaction': pino({ base: null }, sink),
  [`pino redact (${paths.length} paths)`]: pino({ base: null, redact: { paths, censor: '[REDACTED]' } }, sink),
  'our logger: pino redact + nested keys + line pass': pino(
    {
      base: null,
      redact: { paths, censor: '[REDACTED]' },
      formatters: { log: (o) => redactor.redactValue(o) },
      hooks: { streamWrite: (s) => redactor.redactSerialized(s) },
    },
    sink,
  ),
};
// A record with nothing to redact (the usual case), and one with a credential header and token.
const RECORDS = {
  clean: () => ({ userId: 42, route: '/orders/:id', status: 200, durationMs: 12.5, query: 'page=2' }),
  secret: () => ({ userId: 42, route: '/orders/:id', status: 200, durationMs: 12.5, headers: { 'user-agent': 'curl/8', authorization: 'Bearer abc' }, query: 'page=2&token=xyz' }),
};

const N = 30_000;
const results = {};
for (let rep = 0; rep < 5; rep++) {
  for (const [name, logger] of Object.entries(loggers)) {
    for (const [kind, record] of Object.entries(RECORDS)) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < N; i++) logger.info(record(), 'request handled');
      (results[`${name}, ${kind} record`] ??= []).push(Number(process.hrtime.bigint() - t) / N);
    }
  }
}
for (const [name, xs] of Object.entries(results)) {
  const median = [...xs].sort((a, b) => a - b)[2];
  console.log(`${name.padEnd(66)} ${median.toFixed(0)} ns/call (median of 5 x ${N})`);
}
