// The span work of one incoming request in isolation, for the lean span (issue 19 §2.4–2.6):
//   node --expose-gc bench/lean-span.mjs          (needs `npm run build`)
// 1. CPU per request: start the server span, its attributes, the request id, the request context,
//    the status code, end through release tags + redaction + the encoding processor (a discarding
//    exporter), for SDK span + three setValue contexts (before), SDK span + RequestContext, lean
//    span + RequestContext with and without the sampler fast path (lean-tracer.ts), and the lean span
//    with OTEL_MONITOR_REQUEST_ID_FORMAT=uuid; interleaved.
// 2. Heap kept per in-flight request (started, not ended): what a scavenge must copy while the
//    request is being handled.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(ROOT);
const api = require('@opentelemetry/api');
const core = require('@opentelemetry/core');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const dist = (m) => import(`${ROOT}dist/${m}.js`);
const { leanTracer } = await dist('instrumentation/lean-tracer');
const { setOwnAttributes, setOwnAttribute } = await dist('instrumentation/own-attributes');
const { RequestContext } = await dist('instrumentation/request-context');
const { RequestIds, REQUEST_ID_KEY } = await dist('instrumentation/request-id');
const { ReleaseTagSpanProcessor } = await dist('processors/release-tags');
const { RedactionSpanProcessor, Redactor } = await dist('processors/redaction');
const { EncodingSpanProcessor } = await dist('exporters/encoding-span-processor');
if (!global.gc) throw new Error('run with --expose-gc');

api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const discard = { export: (_b, done) => done({ code: 0 }), forceFlush: async () => {}, shutdown: async () => {} };
const tp = new TracerProvider({
  spanProcessors: [
    new ReleaseTagSpanProcessor({ release: 'app@1.0.0', environment: 'prod' }),
    new RedactionSpanProcessor(new Redactor(['password', 'token']), true),
    new EncodingSpanProcessor(api, core.suppressTracing, discard, { maxQueueSize: 100_000, maxExportBatchSize: 512, scheduledDelayMillis: 1000 }),
  ],
});
const sdk = tp.getTracer('http');
const lean = leanTracer(sdk, api, core, { samplesUnderSampledParents: true });
const leanAsking = leanTracer(sdk, api, core);
const traceIds = new RequestIds('x-request-id', 'trace');
const uuidIds = new RequestIds('x-request-id', 'uuid');

const VARIANTS = {
  'SDK span + 3 setValue contexts (before)': { tracer: sdk, ctx: 'three', ids: traceIds },
  'SDK span + RequestContext (OTEL_MONITOR_LEAN_SPANS=false)': { tracer: sdk, ctx: 'one', ids: traceIds },
  'lean span + RequestContext, asking the sampler every span': { tracer: leanAsking, ctx: 'one', ids: traceIds },
  'lean span + RequestContext (default: sampler fast path)': { tracer: lean, ctx: 'one', ids: traceIds },
  'lean span, OTEL_MONITOR_REQUEST_ID_FORMAT=uuid': { tracer: lean, ctx: 'one', ids: uuidIds },
};

function start(v, i) {
  const span = v.tracer.startSpan('GET', { kind: 1 }, api.ROOT_CONTEXT);
  setOwnAttributes(span, {
    'http.request.method': 'GET', 'url.scheme': 'http', 'url.path': '/', 'network.protocol.version': '1.1',
    'server.address': '127.0.0.1', 'server.port': 3000, 'client.address': '127.0.0.1', 'network.peer.address': '127.0.0.1',
    'network.peer.port': 40000 + (i % 1000), 'user_agent.original': 'wrk',
  });
  const rpc = { type: 0, span };
  const id = v.ids.idFor(span, undefined, false);
  const ctx = v.ctx === 'one'
    ? new RequestContext(api.ROOT_CONTEXT, span, rpc, id)
    : core.setRPCMetadata(api.trace.setSpan(api.ROOT_CONTEXT, span), rpc).setValue(REQUEST_ID_KEY, id);
  return { span, ctx };
}

async function cpuPerRequest(v, n) {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const { span, ctx } = start(v, i);
    api.trace.getSpan(ctx);
    setOwnAttribute(span, 'http.response.status_code', 200);
    span.end();
    if (i % 256 === 255) await new Promise(setImmediate); // let the encoding processor send
  }
  const d = process.cpuUsage(t);
  return ((d.user + d.system) / n) * 1000;
}

function heapPerInFlight(v, n) {
  global.gc();
  global.gc();
  const before = process.memoryUsage().heapUsed;
  const keep = Array.from({ length: n }, (_, i) => start(v, i).ctx);
  global.gc();
  global.gc();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  keep.length = 0;
  return bytes;
}

const N = 100_000;
const cpu = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
for (const v of Object.values(VARIANTS)) await cpuPerRequest(v, N / 4); // warm-up
for (let round = 0; round < 7; round++) for (const [k, v] of Object.entries(VARIANTS)) cpu[k].push(await cpuPerRequest(v, N));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`| variant | ns CPU per request (median of 7 interleaved rounds of ${N}) | heap bytes per in-flight request |\n|---|---:|---:|`);
for (const [k, v] of Object.entries(VARIANTS)) console.log(`| ${k} | ${median(cpu[k]).toFixed(0)} | ${heapPerInFlight(v, 20_000).toFixed(0)} |`);
