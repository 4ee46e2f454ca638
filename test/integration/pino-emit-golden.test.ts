// The golden test of pino records encoded at emit (src/exporters/pino-emit.ts): the same app runs
// twice under the preload, once with its pino lines through the SDK path
// (OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=pino: Logs API, LogRecordImpl, the log processors,
// BatchLogRecordProcessor, otlp-transformer) and once encoded at emit, each to its own OTLP receiver.
// Every record is compared field by field as decoded from the wire: severity number and text, body,
// each attribute's key, typed value and position, dropped count, flags, trace and span ids (the
// request's server span in each run), timestamps, resource and scope. A difference fails the test
// unless it is one of DIFFERENCES, each of which docs/ARCHITECTURE.md lists with its reason.
// Needs `npm run build`.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp, type RunningApp } from '../helpers/app.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll, waitFor } from '../helpers/process.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const REQUEST_ID = 'golden-req-1';
const LINES = 14; // test/fixtures/pino-golden-app.mjs: 13 in the request, 1 outside

/**
 * The differences allowed, each as the text docs/ARCHITECTURE.md must contain and a test of one
 * difference (the path, e.g. `attribute request_id`, and both sides' values).
 */
const DIFFERENCES: Array<{ doc: string; allows: (d: Difference, all: Difference[]) => boolean }> = [
  {
    // The pino instrumentation's logHook writes the request id into the line as `request_id`; the
    // record carries it as `otel_monitor.request.id` (RequestIdLogProcessor's key, on every record).
    doc: 'the line\'s `request_id` field is not repeated as an attribute',
    allows: (d) => d.path === 'attribute request_id' && d.ours === undefined && stripPosition(d.sdk) === JSON.stringify({ stringValue: REQUEST_ID }),
  },
  {
    // Its consequence under the attribute count limit (128): the slot the repeated id took in the
    // SDK path keeps one more of the line's own fields, and one fewer is counted as dropped.
    doc: 'a line with more than 128 fields keeps one more of them',
    allows: (d, all) =>
      all.some((x) => x.record === d.record && x.path === 'attribute request_id') &&
      ((d.path === 'droppedAttributesCount' && Number(d.sdk) === Number(d.ours) + 1) || (d.path.startsWith('attribute ') && d.sdk === undefined)),
  },
];

const stripPosition = (v: string | undefined) => v?.replace(/ #\d+$/, '');

interface Difference {
  record: string;
  path: string;
  sdk: string | undefined;
  ours: string | undefined;
}

/** Values that differ between any two processes: not compared, only required on both sides. */
const PER_PROCESS_RESOURCE = new Set(['process.pid', 'service.instance.id', 'process.command_args', 'process.runtime.description']);

interface Received {
  resource: Record<string, string>;
  scope: string;
  records: any[];
}

/** The log records as decoded from the wire (protobufjs objects), with their resource and scope. */
function received(r: OtlpReceiver): Received[] {
  const out: Received[] = [];
  for (const req of r.requests.filter((q) => q.signal === 'logs')) {
    for (const rl of req.body.resourceLogs ?? []) {
      const resource = Object.fromEntries((rl.resource?.attributes ?? []).map((kv: any) => [kv.key, JSON.stringify(kv.value)]));
      for (const sl of rl.scopeLogs ?? []) out.push({ resource, scope: JSON.stringify(sl.scope), records: sl.logRecords ?? [] });
    }
  }
  return out;
}

const hex = (b: unknown) => (b ? Buffer.from(b as Uint8Array).toString('hex') : '');
const bodyOf = (rec: any) => rec.body?.stringValue ?? JSON.stringify(rec.body);

/** One record's fields as comparable strings; ids and times relative to the run. */
function fields(rec: any, serverSpanId: string): Map<string, string | undefined> {
  const f = new Map<string, string | undefined>();
  f.set('severityNumber', String(rec.severityNumber));
  f.set('severityText', rec.severityText);
  f.set('body', JSON.stringify(rec.body));
  f.set('droppedAttributesCount', String(rec.droppedAttributesCount ?? 0));
  f.set('flags', String(rec.flags ?? 0));
  const traceId = hex(rec.traceId);
  f.set('traceId', traceId === TRACE_ID ? 'the request trace' : traceId);
  const spanId = hex(rec.spanId);
  f.set('spanId', spanId && spanId === serverSpanId ? 'the server span' : spanId);
  f.set('eventName', rec.eventName);
  f.set('observedTime = time', String(rec.observedTimeUnixNano === rec.timeUnixNano && Number(rec.timeUnixNano) > 1.7e18));
  (rec.attributes ?? []).forEach((kv: any, i: number) => f.set(`attribute ${kv.key}`, `${JSON.stringify(kv.value)} #${i}`));
  return f;
}

function compare(sdk: Received[], ours: Received[], sdkSpan: string, ourSpan: string): Difference[] {
  const diffs: Difference[] = [];
  const put = (record: string, path: string, a: string | undefined, b: string | undefined) => {
    if (a !== b) diffs.push({ record, path, sdk: a, ours: b });
  };
  const records = (rs: Received[]) => new Map(rs.flatMap((r) => r.records.map((rec) => [bodyOf(rec), { rec, r }] as const)));
  const [a, b] = [records(sdk), records(ours)];
  for (const body of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(body);
    const y = b.get(body);
    if (!x || !y) {
      put(body, 'record', x ? 'present' : undefined, y ? 'present' : undefined);
      continue;
    }
    put(body, 'scope', x.r.scope, y.r.scope);
    for (const key of new Set([...Object.keys(x.r.resource), ...Object.keys(y.r.resource)])) {
      if (PER_PROCESS_RESOURCE.has(key)) put(body, `resource ${key} present`, String(key in x.r.resource), String(key in y.r.resource));
      else put(body, `resource ${key}`, x.r.resource[key], y.r.resource[key]);
    }
    const [fx, fy] = [fields(x.rec, sdkSpan), fields(y.rec, ourSpan)];
    for (const key of new Set([...fx.keys(), ...fy.keys()])) {
      // Positions shift when an allowed difference removes an attribute: compare values alone then.
      const shifted = key.startsWith('attribute ') && diffs.some((d) => d.record === body && DIFFERENCES[0]!.allows(d, diffs));
      put(body, key, shifted ? stripPosition(fx.get(key)) : fx.get(key), shifted ? stripPosition(fy.get(key)) : fy.get(key));
    }
  }
  return diffs;
}

let sdkRun: { app: RunningApp; r: OtlpReceiver; lines: string };
let ourRun: { app: RunningApp; r: OtlpReceiver; lines: string };

async function run(extra: Record<string, string>, start: () => Promise<OtlpReceiver> = startOtlpReceiver) {
  const r = await start();
  const lines = join(mkdtempSync(join(tmpdir(), 'pino-golden-lines-')), 'lines.jsonl');
  const app = await startApp({
    script: 'test/fixtures/pino-golden-app.mjs',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      OTEL_SERVICE_NAME: 'pino-golden',
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=3.1.4,deployment.environment.name=golden',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_MONITOR_HOST_METRICS: 'false',
      LINES_OUT: lines,
      ...extra,
    },
  });
  const res = await app.get('/log', { 'x-request-id': REQUEST_ID, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
  expect(res.status).toBe(200);
  return { app, r, lines };
}

/** The app's own lines, by message: the fields the pino instrumentation's mixin and log hook add. */
function correlation(file: string, serverSpanId: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const l = JSON.parse(line);
    const message = l.msg ?? l.message ?? l.err?.message;
    const spanId = l.span_id === serverSpanId ? 'the server span' : l.span_id;
    out.set(message, JSON.stringify({ trace_id: l.trace_id === TRACE_ID ? 'the request trace' : l.trace_id, span_id: spanId, trace_flags: l.trace_flags, request_id: l.request_id }));
  }
  return out;
}

const serverSpan = (r: OtlpReceiver) => r.spans().find((s) => s.kind === 2 && s.traceId === TRACE_ID)?.spanId ?? '';
const count = (r: OtlpReceiver) => received(r).reduce((n, x) => n + x.records.length, 0);

beforeAll(async () => {
  [sdkRun, ourRun] = await Promise.all([run({ OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: 'pino' }), run({})]);
  for (const { r } of [sdkRun, ourRun]) {
    await waitFor(() => count(r) >= LINES && serverSpan(r), { timeoutMs: 30_000, what: 'the log records and the server span' });
  }
}, 90_000);

afterAll(async () => {
  await stopAll();
  await Promise.all([sdkRun?.r.close(), ourRun?.r.close()]);
});

describe('pino records encoded at emit, against the SDK path (golden)', () => {
  it("each sent every line once, the request's lines in its trace", () => {
    expect(count(sdkRun.r)).toBe(LINES);
    expect(count(ourRun.r)).toBe(LINES);
    // The request's records belong to its trace in both runs (a comparison of "the request trace").
    const inTrace = received(ourRun.r).flatMap((x) => x.records).filter((rec) => hex(rec.traceId) === TRACE_ID);
    expect(inTrace).toHaveLength(LINES - 1);
  });

  it('differ only as docs/ARCHITECTURE.md lists', () => {
    const diffs = compare(received(sdkRun.r), received(ourRun.r), serverSpan(sdkRun.r), serverSpan(ourRun.r));
    const unlisted = diffs.filter((d) => !DIFFERENCES.some((e) => e.allows(d, diffs)));
    if (process.env.GOLDEN_DUMP) console.log(JSON.stringify(diffs, null, 1));
    expect(unlisted).toEqual([]);
    // Every allowed difference occurs (else the list is stale) and is documented.
    const architecture = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
    for (const e of DIFFERENCES) {
      expect(diffs.some((d) => e.allows(d, diffs)), e.doc).toBe(true);
      expect(architecture, e.doc).toContain(e.doc);
    }
  });

  it("write the same trace ids into the app's own lines as instrumentation-pino's mixin (src/instrumentation/pino-mixin.ts)", () => {
    const upstream = correlation(sdkRun.lines, serverSpan(sdkRun.r));
    const ours = correlation(ourRun.lines, serverSpan(ourRun.r));
    expect(ours.size).toBe(LINES);
    expect([...ours]).toEqual([...upstream]);
    const inRequest = [...ours.values()].filter((v) => v.includes('the request trace') && v.includes('the server span'));
    expect(inRequest).toHaveLength(LINES - 1);
    expect(ours.get('varied ✓')).toBe(JSON.stringify({ trace_id: 'the request trace', span_id: 'the server span', trace_flags: '01', request_id: REQUEST_ID }));
    expect(ours.get('outside any request')).toBe(JSON.stringify({}));
  });

  it('carry the request id once, as otel_monitor.request.id, and no secret', () => {
    const recs = received(ourRun.r).flatMap((x) => x.records);
    const varied = recs.find((rec) => bodyOf(rec) === 'varied ✓');
    const keys = varied.attributes.map((kv: any) => kv.key);
    expect(keys.filter((k: string) => k === 'otel_monitor.request.id' || k === 'request_id')).toEqual(['otel_monitor.request.id']);
    // An app's own field of that name, with another value, stays.
    const own = recs.find((rec) => bodyOf(rec) === 'app field named request_id');
    expect(own.attributes.find((kv: any) => kv.key === 'request_id').value.stringValue).toBe('app-own');
    expect(JSON.stringify(recs)).not.toMatch(/S3cret|someone@example\.com/);
  });

  it('reach a plugin\'s log record processor as before: a plugin puts pino records on the SDK path', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pino-emit-plugin-')), 'events.jsonl');
    const { r } = await run({ OTEL_MONITOR_PLUGINS: './test/fixtures/plugins/recorder.mjs', PLUGIN_OUT: out });
    try {
      const seen = () => readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; body?: unknown });
      await waitFor(() => seen().filter((e) => e.event === 'log').length >= LINES && count(r) >= LINES, { timeoutMs: 30_000, what: 'the records at the plugin and the receiver' });
      expect(seen().filter((e) => e.event === 'log' && e.body === 'varied ✓')).toHaveLength(1);
      // The SDK path (the exporter's scope), with the line parsed as ours parses it: the id once.
      const varied = received(r).flatMap((x) => x.records).find((rec) => bodyOf(rec) === 'varied ✓');
      const keys = varied.attributes.map((kv: any) => kv.key);
      expect(keys.filter((k: string) => k === 'otel_monitor.request.id' || k === 'request_id')).toEqual(['otel_monitor.request.id']);
    } finally {
      await r.close();
    }
  });

  it('keep the SDK path when the logs exporter is not OTLP/HTTP protobuf (http/json here)', async () => {
    const { r } = await run({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' });
    try {
      const varied = await waitFor(() => r.logRecords().find((l) => l.body === 'varied ✓'), { timeoutMs: 30_000, what: 'the JSON log record' });
      expect(r.requests.find((q) => q.signal === 'logs')?.contentType).toContain('json');
      // The SDK path's signature: the line's request_id is an attribute beside otel_monitor.request.id.
      expect(varied.attributes).toMatchObject({ request_id: REQUEST_ID, 'otel_monitor.request.id': REQUEST_ID });
    } finally {
      await r.close();
    }
  });
});
