// The tracers' own cost per request, without the network: undici's five channel messages for one
// request (create, sendHeaders, headers, trailers) published synthetically, inside a request's
// context, to instrumentation-undici or to ours, with the real SDK under each (spans ended into no
// processor, the duration histogram recorded to a reader) and the distribution's propagators. CPU
// time per request, best of 3 rounds, each configuration in its own process, interleaved; and, from
// V8's --trace-gc-nvp, the bytes allocated per request over the 3 rounds.
//   node bench/undici-channels.mjs [--reps 7] [--requests 20000]     (needs `npm run build`)
import { spawn } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gcCounter } from './gc-counter.js';

class FakeRequest {
  constructor() {
    // The fields undici's Request has when `undici:request:create` is published, for a fetch().
    Object.assign(this, { headersTimeout: 300000, bodyTimeout: 300000, method: 'GET', typeOfService: null, abort: null, body: null, completed: false, aborted: false, upgrade: null });
    Object.assign(this, { path: '/prices/7', origin: 'http://127.0.0.1:3000', protocol: 'http:', idempotent: true, blocking: true, reset: null, host: null, contentLength: null, contentType: null });
    this.headers = ['accept', '*/*', 'accept-language', '*', 'sec-fetch-mode', 'cors', 'user-agent', 'node', 'accept-encoding', 'gzip, deflate'];
  }

  addHeader(key, value) {
    this.headers.push(key, value);
    return this;
  }
}

async function child(which, n) {
  const root = new URL('../dist/', import.meta.url);
  const api = await import('@opentelemetry/api');
  const core = await import('@opentelemetry/core');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { TracerProvider } = await import('@opentelemetry/sdk-trace');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { RequestIdPropagator, REQUEST_ID_KEY } = await import(new URL('instrumentation/request-id.js', root).href);
  const manager = new AsyncLocalStorageContextManager();
  api.context.setGlobalContextManager(manager.enable());
  api.propagation.setGlobalPropagator(new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator(), new RequestIdPropagator('x-request-id')] }));
  const tp = new TracerProvider();
  const reader = new (class extends MetricReader { async onForceFlush() {} async onShutdown() {} })();
  const mp = new MeterProvider({ readers: [reader] });
  if (which === 'ours') {
    const { traceUndici } = await import(new URL('instrumentation/undici/tracer.js', root).href);
    traceUndici({ api, tracer: tp.getTracer('undici'), meter: mp.getMeter('undici'), store: manager._asyncLocalStorage, requestIdHeader: 'x-request-id' });
  } else {
    const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici');
    const inst = new UndiciInstrumentation();
    inst.setTracerProvider(tp);
    inst.setMeterProvider(mp);
    inst.enable();
  }
  const ch = ['create', 'headers', 'trailers'].map((n) => dc.channel(`undici:request:${n}`));
  const send = dc.channel('undici:client:sendHeaders');
  const socket = { remoteAddress: '127.0.0.1', remotePort: 3000, alpnProtocol: false };
  const response = { statusCode: 200, headers: [], statusText: 'OK' };
  const parent = tp.getTracer('app').startSpan('request');
  const ctx = api.trace.setSpan(api.ROOT_CONTEXT, parent).setValue(REQUEST_ID_KEY, '0f8fad5b-d9cb-469f-a165-70867728950e');
  const round = (count) =>
    api.context.with(ctx, () => {
      const t0 = process.cpuUsage();
      for (let i = 0; i < count; i++) {
        const request = new FakeRequest();
        ch[0].publish({ request });
        send.publish({ request, headers: '', socket });
        ch[1].publish({ request, response });
        ch[2].publish({ request, trailers: [] });
      }
      const { user, system } = process.cpuUsage(t0);
      return (user + system) / count;
    });
  round(n); // warm-up
  console.log('WARMED'); // the driver counts allocations from here
  const rounds = [round(n), round(n), round(n)];
  console.log(JSON.stringify({ usPerRequest: Math.min(...rounds) }));
}

function runChild(which, n) {
  const p = spawn(process.execPath, ['--trace-gc-nvp', fileURLToPath(import.meta.url), 'child', which, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const gc = gcCounter();
  let out = '';
  p.stdout.on('data', (d) => {
    const s = String(d);
    out += s;
    const warmed = s.indexOf('WARMED\n');
    if (warmed === -1) return gc.onStdout(s);
    gc.onStdout(s.slice(0, warmed));
    gc.reset();
    gc.onStdout(s.slice(warmed));
  });
  return new Promise((resolve) =>
    p.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{"usPerRequest"'));
      resolve({ us: line ? JSON.parse(line).usPerRequest : NaN, bytes: gc.counts().allocated / (3 * n) });
    }),
  );
}

async function driver() {
  const { values: o } = parseArgs({ options: { reps: { type: 'string', default: '7' }, requests: { type: 'string', default: '20000' } } });
  const res = { upstream: [], ours: [] };
  const bytes = { upstream: [], ours: [] };
  for (let rep = 0; rep < Number(o.reps); rep++) {
    for (const which of rep % 2 ? ['ours', 'upstream'] : ['upstream', 'ours']) {
      const r = await runChild(which, Number(o.requests));
      res[which].push(r.us);
      bytes[which].push(r.bytes);
      console.error(`rep ${rep} ${which}: ${r.us.toFixed(2)} µs CPU per request, ${r.bytes.toFixed(0)} B allocated per request`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const diffs = res.ours.map((x, i) => x - res.upstream[i]);
  console.log(`| tracer | µs CPU per request (median of ${o.reps}, min–max) | bytes allocated per request (median) |\n|---|---:|---:|`);
  for (const [k, xs] of Object.entries(res)) console.log(`| ${k === 'ours' ? 'ours' : 'instrumentation-undici'} | ${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}) | ${median(bytes[k]).toFixed(0)} |`);
  console.log(`ours − upstream per rep: median ${median(diffs).toFixed(2)} µs (${diffs.map((d) => d.toFixed(2)).join(', ')})`);
}

if (process.argv[2] === 'child') await child(process.argv[3], Number(process.argv[4]));
else await driver();
