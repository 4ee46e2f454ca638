// The legs `otel-monitor doctor` proves, one function each. Every request has a short timeout, so a
// dead endpoint fails its leg in seconds; a leg never throws, it returns its verdict.
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Config, SignalConfig } from '../../config.js';
import { redactUrl } from '../../config.js';
import { reason, type PrometheusClient } from '../shared/prometheus.js';
import { eq, selector } from '../shared/promql.js';
import { CliError } from '../shared/errors.js';

export type Verdict = 'PASS' | 'FAIL' | 'SKIP';
export interface LegResult {
  leg: 'collector' | 'prometheus' | 'sentry' | 'loki' | 'jaeger';
  verdict: Verdict;
  detail: string;
  fix?: string;
  /** Sentry: the id of the test event. */
  eventId?: string;
}

/** What was sent, so the later legs can look for exactly it. */
export interface Probe {
  runId: string;
  traceId: string;
  spanId: string;
  service: string;
  release?: string;
  environment?: string;
  sentAtMs: number;
}

export const REQUEST_TIMEOUT_MS = 4000;
export const METRIC_NAME = 'otel_monitor.doctor.check';
/** The Prometheus name the Collector's exporter gives it. */
export const PROM_METRIC = 'otel_monitor_doctor_check';

const fetchShort = (url: string, init: RequestInit = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
const kv = (key: string, value: string) => ({ key, value: { stringValue: value } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function newProbe(service: string, release: string | undefined, environment: string | undefined, now: number): Probe {
  return {
    runId: randomUUID(),
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    service,
    release,
    environment,
    sentAtMs: now,
  };
}

function resource(p: Probe) {
  const attrs = [kv('service.name', p.service)];
  if (p.release) attrs.push(kv('service.version', p.release));
  if (p.environment) attrs.push(kv('deployment.environment.name', p.environment));
  return { attributes: attrs };
}

/** One span, one gauge point and one log record in the same trace, as OTLP/JSON bodies. */
export function probeBodies(p: Probe): Record<'traces' | 'metrics' | 'logs', unknown> {
  const nano = `${BigInt(p.sentAtMs) * 1_000_000n}`;
  const scope = { name: '@org/otel-monitor/doctor' };
  return {
    traces: {
      resourceSpans: [{ resource: resource(p), scopeSpans: [{ scope, spans: [{ traceId: p.traceId, spanId: p.spanId, name: 'otel-monitor doctor', kind: 1, startTimeUnixNano: nano, endTimeUnixNano: nano, attributes: [kv('doctor.run', p.runId)] }] }] }],
    },
    metrics: {
      resourceMetrics: [{ resource: resource(p), scopeMetrics: [{ scope, metrics: [{ name: METRIC_NAME, gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: nano, attributes: [kv('doctor.run', p.runId)] }] } }] }] }],
    },
    logs: {
      resourceLogs: [{ resource: resource(p), scopeLogs: [{ scope, logRecords: [{ timeUnixNano: nano, severityNumber: 9, severityText: 'INFO', body: { stringValue: `otel-monitor doctor check ${p.runId}` }, traceId: p.traceId, spanId: p.spanId }] }] }],
    },
  };
}

async function postOtlp(s: SignalConfig, body: unknown): Promise<string | undefined> {
  const json = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { ...s.headers, 'content-type': 'application/json' };
  if (s.compression === 'gzip') headers['content-encoding'] = 'gzip';
  try {
    const res = await fetchShort(s.endpoint, { method: 'POST', headers, body: s.compression === 'gzip' ? gzipSync(json) : json });
    const text = await res.text().catch(() => '');
    if (!res.ok) return `${redactUrl(s.endpoint)} answered HTTP ${res.status}`;
    if (/"rejected(Spans|DataPoints|LogRecords)":\s*"?[1-9]/.test(text)) return `${redactUrl(s.endpoint)} rejected part of it: ${text.slice(0, 200)}`;
    return undefined;
  } catch (err) {
    return `cannot reach ${redactUrl(new URL(s.endpoint).origin)}: ${reason(err)}`;
  }
}

/** Sum of the Collector's otelcol_receiver_accepted_<kind> counters for its otlp receiver. */
async function acceptedCounts(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetchShort(metricsUrl)).text();
  const out: Record<string, number> = { spans: 0, metric_points: 0, log_records: 0 };
  for (const line of text.split('\n')) {
    const m = /^otelcol_receiver_accepted_(spans|metric_points|log_records)(?:_total)?\{([^}]*)\} (\S+)/.exec(line);
    if (m && /receiver="otlp"/.test(m[2]!)) out[m[1]!]! += Number(m[3]);
  }
  return out;
}

export async function checkCollector(config: Config, p: Probe, metricsUrl: string): Promise<LegResult> {
  const before = await acceptedCounts(metricsUrl).catch(() => undefined);
  const bodies = probeBodies(p);
  const signals = [['traces', config.traces], ['metrics', config.metrics], ['logs', config.logs]] as const;
  // Unique: three signals to one dead endpoint are one reason.
  const errors = [...new Set(await Promise.all(signals.map(([name, s]) => (s.exporter === 'otlp' ? postOtlp(s, bodies[name]) : undefined))))].filter(Boolean);
  const fix = 'start the Collector, or set OTEL_EXPORTER_OTLP_ENDPOINT to where it listens (OTLP/HTTP, port 4318)';
  if (errors.length) return { leg: 'collector', verdict: 'FAIL', detail: errors.join('; '), fix };
  if (!before) {
    return { leg: 'collector', verdict: 'PASS', detail: `span, metric and log record accepted over OTLP; receipt not confirmed: no Collector metrics at ${metricsUrl} (give --collector-metrics)` };
  }
  // The Collector counts what its receiver accepted: proof the data went in, not just that a port answered.
  let missing: string[] = [];
  for (let i = 0; i < 10; i++) {
    const after = await acceptedCounts(metricsUrl).catch(() => before);
    missing = Object.keys(before).filter((k) => after[k]! <= before[k]!);
    if (missing.length === 0) return { leg: 'collector', verdict: 'PASS', detail: `span, metric and log record accepted (otelcol_receiver_accepted_* rose at ${metricsUrl})` };
    await sleep(300);
  }
  return {
    leg: 'collector',
    verdict: 'FAIL',
    detail: `the OTLP endpoint answered but ${metricsUrl} shows no accepted ${missing.join(', ')}`,
    fix: 'OTEL_EXPORTER_OTLP_ENDPOINT points at something other than the Collector whose metrics these are',
  };
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetchShort(url, { headers: { accept: 'application/json', ...headers } });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new Error(`HTTP ${res.status} without JSON`);
  }
}

/** Polls `look` every second until it returns a result or `waitMs` passes. */
async function poll<T>(waitMs: number, look: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found = await look();
    if (found !== undefined || Date.now() >= deadline) return found;
    await sleep(1000);
  }
}

export async function checkPrometheus(prometheus: PrometheusClient, p: Probe, waitMs: number): Promise<LegResult> {
  const base = prometheus.displayUrl;
  const promql = selector(PROM_METRIC, [eq('doctor_run', p.runId), ...(p.release ? [eq('service_version', p.release)] : [])]);
  try {
    const found = await poll(waitMs, async () => ((await prometheus.query(promql, Date.now() / 1000)).length ? true : undefined));
    if (found) return { leg: 'prometheus', verdict: 'PASS', detail: `${promql} is queryable at ${base}` };
    return { leg: 'prometheus', verdict: 'FAIL', detail: `${promql} not found at ${base} after ${waitMs / 1000} s${await downTargets(prometheus)}`, fix: "check the Collector's prometheus exporter and that Prometheus scrapes it (job otel-collector)" };
  } catch (err) {
    // The client's errors already name the server and a scrubbed reason.
    const detail = err instanceof CliError ? err.message : `cannot query Prometheus at ${base}: ${reason(err)}`;
    return { leg: 'prometheus', verdict: 'FAIL', detail, fix: 'pass the URL of a running Prometheus with --prometheus-url' };
  }
}

/** `; scrape target down: otel-collector (connection refused)` from Prometheus's own target list. */
async function downTargets(prometheus: PrometheusClient): Promise<string> {
  try {
    const down = await prometheus.downTargets();
    return down.length ? `; scrape target down: ${down.map((t) => `${t.scrapePool} (${t.lastError ?? 'no error given'})`).join(', ')}` : '';
  } catch {
    return '';
  }
}

/** Sends one test error event to the DSN's envelope endpoint; never prints the DSN. */
export async function checkSentry(dsn: string, p: Probe): Promise<LegResult> {
  const u = new URL(dsn);
  const parts = u.pathname.split('/').filter(Boolean);
  const project = parts.pop();
  const endpoint = `${u.protocol}//${u.host}${parts.length ? `/${parts.join('/')}` : ''}/api/${project}/envelope/`;
  const where = `${u.protocol}//${u.host} project ${project}`;
  const eventId = p.runId.replace(/-/g, '');
  const event = {
    event_id: eventId,
    timestamp: p.sentAtMs / 1000,
    platform: 'node',
    level: 'error',
    logger: 'otel-monitor.doctor',
    release: p.release,
    environment: p.environment,
    message: { formatted: `otel-monitor doctor test error (${p.runId}); safe to resolve` },
    contexts: { trace: { trace_id: p.traceId, span_id: p.spanId } },
    tags: { 'otel-monitor.doctor': 'true' },
  };
  const body = [JSON.stringify({ event_id: eventId, sent_at: new Date(p.sentAtMs).toISOString() }), JSON.stringify({ type: 'event' }), JSON.stringify(event)].join('\n');
  const auth = `Sentry sentry_version=7, sentry_client=otel-monitor-doctor/1, sentry_key=${decodeURIComponent(u.username)}`;
  try {
    const res = await fetchShort(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-sentry-envelope', 'x-sentry-auth': auth }, body });
    await res.text().catch(() => '');
    if (res.ok) return { leg: 'sentry', verdict: 'PASS', detail: `test error accepted by ${where}, event id ${eventId}`, eventId };
    const fix = res.status === 401 || res.status === 403 ? 'check the key and project in SENTRY_DSN (Project Settings > Client Keys)' : 'check SENTRY_DSN and that the Sentry server is healthy';
    return { leg: 'sentry', verdict: 'FAIL', detail: `${where} refused the test error (HTTP ${res.status})`, fix };
  } catch (err) {
    return { leg: 'sentry', verdict: 'FAIL', detail: `cannot reach ${where}: ${reason(err)}`, fix: 'check the host in SENTRY_DSN and the network path to it' };
  }
}

/** The log line sent to the Collector, queried back from Loki by its trace id. */
export async function checkLoki(url: URL, p: Probe, waitMs: number): Promise<LegResult> {
  const base = url.href.replace(/\/+$/, '');
  const query = `{service_name="${p.service.replace(/["\\]/g, '\\$&')}"} | trace_id="${p.traceId}"`;
  const params = new URLSearchParams({ query, start: `${(p.sentAtMs - 60_000) * 1_000_000}`, end: `${(Date.now() + 60_000) * 1_000_000}`, limit: '10' });
  try {
    const found = await poll(waitMs, async () => {
      const { status, body } = await getJson(`${base}/loki/api/v1/query_range?${params}`);
      if (body.status !== 'success') throw new Error(`query refused (HTTP ${status}): ${body.error ?? body.message ?? 'unknown error'}`);
      return (body.data?.result ?? []).some((s: { values?: unknown[] }) => s.values?.length) ? true : undefined;
    });
    if (found) return { leg: 'loki', verdict: 'PASS', detail: `the log line is queryable at ${base} by trace id ${p.traceId}` };
    return { leg: 'loki', verdict: 'FAIL', detail: `no log line with trace id ${p.traceId} at ${base} after ${waitMs / 1000} s`, fix: "check LOKI_ENDPOINT of the Collector (its otlp_http/loki exporter) and the Collector's log" };
  } catch (err) {
    return { leg: 'loki', verdict: 'FAIL', detail: `cannot query Loki at ${base}: ${reason(err)}`, fix: 'pass the URL of a running Loki with --loki-url' };
  }
}

/** The span sent to the Collector, read back by its trace id from Jaeger's query API. */
export async function checkJaeger(url: URL, p: Probe, waitMs: number): Promise<LegResult> {
  const base = url.href.replace(/\/+$/, '');
  try {
    const found = await poll(waitMs, async () => {
      const { status, body } = await getJson(`${base}/api/traces/${p.traceId}`);
      // 404 is Jaeger's "no such trace (yet)"; anything else that is not a trace is an error.
      if (status === 404) return undefined;
      if (status !== 200) throw new Error(`HTTP ${status}: ${JSON.stringify(body.errors ?? body).slice(0, 200)}`);
      const spans: Array<{ spanID?: string }> = body.data?.[0]?.spans ?? [];
      return spans.some((s) => s.spanID === p.spanId) ? true : undefined;
    });
    if (found) return { leg: 'jaeger', verdict: 'PASS', detail: `the span is queryable at ${base}/api/traces/${p.traceId}` };
    return { leg: 'jaeger', verdict: 'FAIL', detail: `no trace ${p.traceId} at ${base} after ${waitMs / 1000} s`, fix: "check JAEGER_ENDPOINT of the Collector and that otlp_http/jaeger is in OTELCOL_TRACES_EXPORTERS; see the Collector's log" };
  } catch (err) {
    return { leg: 'jaeger', verdict: 'FAIL', detail: `cannot query Jaeger at ${base}: ${reason(err)}`, fix: 'pass the URL of a running Jaeger (its UI and query port, 16686) with --jaeger-url' };
  }
}
