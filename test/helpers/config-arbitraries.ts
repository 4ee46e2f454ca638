// Random environments over every variable src/config.ts reads (fast-check arbitraries), shared by
// the property test of readConfig and the test that starts the real preload with some of them.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';

export const SIGNALS = ['TRACES', 'METRICS', 'LOGS'];
const CONFIG_SOURCES = [
  new URL('../../src/config.ts', import.meta.url),
  ...readdirSync(new URL('../../src/config/', import.meta.url)).map((f) => new URL(`../../src/config/${f}`, import.meta.url)),
];
/** Every variable src/config.ts and src/config/ read: their string literals, plus the per-signal and batch template names. */
export const VARIABLES = [
  ...new Set([
    ...CONFIG_SOURCES.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/'([A-Z][A-Z0-9_]{2,})'/g)])
      .map((m) => m[1]!)
      .filter((n) => !SIGNALS.includes(n) && n !== 'OTEL_BSP' && n !== 'OTEL_BLRP'),
    ...SIGNALS.flatMap((s) => [
      `OTEL_${s}_EXPORTER`,
      ...['ENDPOINT', 'PROTOCOL', 'HEADERS', 'TIMEOUT', 'COMPRESSION'].map((k) => `OTEL_EXPORTER_OTLP_${s}_${k}`),
    ]),
    ...['OTEL_BSP', 'OTEL_BLRP'].flatMap((p) => ['SCHEDULE_DELAY', 'MAX_QUEUE_SIZE', 'MAX_EXPORT_BATCH_SIZE', 'EXPORT_TIMEOUT'].map((k) => `${p}_${k}`)),
    'container',
  ]),
];

const HUGE = ['9'.repeat(400), 'x'.repeat(100_000), `${'k=v,'.repeat(5000)}k=v`, '1e309', String(Number.MAX_SAFE_INTEGER), '99999999999'];
const EDGES = ['', ' ', '\t\n', '0', '-1', '1.5', 'NaN', 'Infinity', '-0', '0x10', '1_000', ' 42 ', '2147483648', 'true', 'FALSE', 'yes', 'off'];
const KNOWN = [
  'otlp', 'console', 'none', 'grpc', 'http/json', 'HTTP/PROTOBUF', 'gzip', 'always_on', 'traceidratio', 'parentbased_traceidratio',
  '0.25', 'debug', 'all', 'env,host', 'all', 'aws,nope', 'http,express', 'https://abc@o1.ingest.sentry.io/42',
];
const URLS = [
  'http://127.0.0.1:4318', 'https://collector.example.com/', 'http://user:s3cr3t-pw@host:4318', 'javascript:alert(1)', 'file:///etc/passwd',
  'http://[::1]:4318', 'http://', '//host', 'http://exa mple.com', 'http://例子.测试:4318/v1',
];
const INJECTIONS = [
  '\n[otel-monitor] error: forged line', 'a\r\nSet-Cookie: x=1', '${HOME}', '$(rm -rf /)', '`id`', '"; DROP TABLE users; --', '\u001b[31mred',
  '__proto__=polluted', 'constructor=1,prototype=2', 'a=%ZZ', '%', 'k=v,=,,k2', 'authorization=Bearer t0ken-S3CRET', 'x=\u2028y', '\u0000',
  '<script>alert(1)</script>', '../../../../etc/passwd', 'k=\ud800',
];

const value = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EDGES, ...KNOWN, ...URLS, ...INJECTIONS) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()).map(String) },
  { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  {
    weight: 1,
    arbitrary: fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })), { maxLength: 5 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join(',')),
  },
);
export const environment = fc.dictionary(fc.constantFrom(...VARIABLES), value, { maxKeys: 25 });

