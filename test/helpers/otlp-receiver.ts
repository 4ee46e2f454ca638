import { createServer, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { listenLocal } from './process.js';

const root = protobuf.loadSync(fileURLToPath(new URL('./otlp.proto', import.meta.url)));
const requestTypes = {
  traces: root.lookupType('otlp.ExportTraceServiceRequest'),
  metrics: root.lookupType('otlp.ExportMetricsServiceRequest'),
  logs: root.lookupType('otlp.ExportLogsServiceRequest'),
} as const;
type Signal = keyof typeof requestTypes;

export type Attrs = Record<string, unknown>;
export interface SpanRecord {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Attrs;
  resource: Attrs;
  scope: string;
  status: { code?: number; message?: string };
  events: Array<{ name: string; attributes: Attrs }>;
}
export interface LogRecordOut {
  body: unknown;
  severityText: string;
  severityNumber: number;
  attributes: Attrs;
  resource: Attrs;
  scope: string;
  traceId: string;
  spanId: string;
}
export interface DataPoint {
  attributes: Attrs;
  value?: number;
  count?: number;
  sum?: number;
}
export interface MetricRecord {
  name: string;
  unit: string;
  type: 'gauge' | 'sum' | 'histogram' | 'other';
  resource: Attrs;
  scope: string;
  dataPoints: DataPoint[];
}
export interface ReceivedRequest {
  signal: Signal;
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string;
  bytes: number;
  /** The request body as sent, uncompressed: what a leak check must search, whatever the encoding. */
  payload: Buffer;
  body: any;
}

export interface ReceiverOptions {
  /** Return a status code to answer with instead of 200 (e.g. 503 to simulate an outage). */
  respond?: (req: { path: string; headers: IncomingHttpHeaders }) => number | undefined;
}

/** An OTLP id as lowercase hex: protobuf gives bytes, OTLP/JSON a hex string already. */
export const idHex = (v: unknown): string => {
  if (v == null) return '';
  if (typeof v === 'string') return v.toLowerCase(); // OTLP/JSON already carries hex ids
  return Buffer.from(v as Uint8Array).toString('hex');
};

function anyValue(v: any): unknown {
  if (v == null) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return (v.arrayValue?.values ?? []).map(anyValue);
  if ('kvlistValue' in v) return attrs(v.kvlistValue?.values);
  if ('bytesValue' in v) return idHex(v.bytesValue);
  return undefined;
}

function attrs(list: any[] | undefined): Attrs {
  const out: Attrs = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** Decodes an OTLP/HTTP body (protobuf or JSON, optionally gzipped) into the OTLP/JSON object shape. */
export function decodeOtlp(signal: Signal, raw: Buffer, contentType: string, encoding?: string): any {
  const buf = encoding === 'gzip' ? gunzipSync(raw) : raw;
  if (contentType.includes('json')) return JSON.parse(buf.toString('utf8'));
  const type = requestTypes[signal];
  return type.toObject(type.decode(buf), { longs: String, defaults: false, oneofs: false });
}

function flatten(signal: Signal, body: any) {
  const spans: SpanRecord[] = [];
  const logs: LogRecordOut[] = [];
  const metrics: MetricRecord[] = [];
  if (signal === 'traces') {
    for (const rs of body.resourceSpans ?? []) {
      const resource = attrs(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            name: s.name,
            kind: Number(s.kind ?? 0),
            traceId: idHex(s.traceId),
            spanId: idHex(s.spanId),
            parentSpanId: idHex(s.parentSpanId),
            attributes: attrs(s.attributes),
            resource,
            scope: ss.scope?.name ?? '',
            status: s.status ?? {},
            events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attrs(e.attributes) })),
          });
        }
      }
    }
  } else if (signal === 'logs') {
    for (const rl of body.resourceLogs ?? []) {
      const resource = attrs(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const l of sl.logRecords ?? []) {
          logs.push({
            body: anyValue(l.body),
            severityText: l.severityText ?? '',
            severityNumber: Number(l.severityNumber ?? 0),
            attributes: attrs(l.attributes),
            resource,
            scope: sl.scope?.name ?? '',
            traceId: idHex(l.traceId),
            spanId: idHex(l.spanId),
          });
        }
      }
    }
  } else {
    for (const rm of body.resourceMetrics ?? []) {
      const resource = attrs(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const type = m.gauge ? 'gauge' : m.sum ? 'sum' : m.histogram ? 'histogram' : 'other';
          const points: any[] = (m.gauge ?? m.sum ?? m.histogram)?.dataPoints ?? [];
          metrics.push({
            name: m.name,
            unit: m.unit ?? '',
            type,
            resource,
            scope: sm.scope?.name ?? '',
            dataPoints: points.map((p) => ({
              attributes: attrs(p.attributes),
              value: p.asDouble != null ? Number(p.asDouble) : p.asInt != null ? Number(p.asInt) : undefined,
              count: p.count != null ? Number(p.count) : undefined,
              sum: p.sum != null ? Number(p.sum) : undefined,
            })),
          });
        }
      }
    }
  }
  return { spans, logs, metrics };
}

export interface OtlpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests answered 400 because their body did not decode: the error text of each. */
  rejected: string[];
  spans(): SpanRecord[];
  logRecords(): LogRecordOut[];
  metrics(): MetricRecord[];
  /** Every data point of the named metric, across all exports so far. */
  points(name: string): Array<DataPoint & { resource: Attrs }>;
  close(): Promise<void>;
}

/** An OTLP/HTTP receiver on 127.0.0.1 that accepts any path ending in /v1/{traces,metrics,logs}. */
export async function startOtlpReceiver(opts: ReceiverOptions = {}): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  const rejected: string[] = [];
  const spans: SpanRecord[] = [];
  const logs: LogRecordOut[] = [];
  const metrics: MetricRecord[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const match = /\/v1\/(traces|metrics|logs)$/.exec(path);
      if (req.method !== 'POST' || !match) {
        res.writeHead(404).end();
        return;
      }
      const forced = opts.respond?.({ path, headers: req.headers });
      if (forced && forced !== 200) {
        res.writeHead(forced, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      const signal = match[1] as Signal;
      const contentType = String(req.headers['content-type'] ?? '');
      try {
        const raw = Buffer.concat(chunks);
        const body = decodeOtlp(signal, raw, contentType, req.headers['content-encoding'] as string | undefined);
        const payload = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        requests.push({ signal, path, headers: req.headers, contentType, bytes: raw.length, payload, body });
        const flat = flatten(signal, body);
        spans.push(...flat.spans);
        logs.push(...flat.logs);
        metrics.push(...flat.metrics);
        const json = contentType.includes('json');
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(json ? '{}' : undefined);
      } catch (err) {
        rejected.push(String(err));
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
      }
    });
  });
  const { url, port, close } = await listenLocal(server);
  return {
    url,
    port,
    requests,
    rejected,
    spans: () => spans,
    logRecords: () => logs,
    metrics: () => metrics,
    points: (name) => metrics.filter((m) => m.name === name).flatMap((m) => m.dataPoints.map((p) => ({ ...p, resource: m.resource }))),
    close,
  };
}

/** A receiver of its own for one test, so assertions only see that test's app; closed afterwards. */
export async function withReceiver<T>(fn: (r: OtlpReceiver) => Promise<T>): Promise<T> {
  const r = await startOtlpReceiver();
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}
