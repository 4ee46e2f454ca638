// A Loki stand-in, by contract (Loki itself is not built here): the Collector's otlp_http/loki
// exporter pushes OTLP logs to <loki>/otlp/v1/logs, and /loki/api/v1/query_range answers the one
// query shape `otel-monitor doctor` sends, `{service_name="S"} | trace_id="T"`, in Loki's
// response format (https://grafana.com/docs/loki/latest/reference/loki-http-api/#query-logs-within-a-range-of-time).
// Anything else is a 400, as Loki would refuse a query it cannot parse.
import { createServer, type Server } from 'node:http';
import { decodeOtlp, idHex } from './otlp-receiver.js';
import { listenLocal } from './process.js';

export interface LokiLine {
  service: string;
  traceId: string;
  timeNs: string;
  line: string;
}

export interface LokiStandIn {
  url: string;
  lines: LokiLine[];
  queries: string[];
  close(): Promise<void>;
}

const QUERY = /^\{service_name="((?:[^"\\]|\\.)*)"\} \| trace_id="([0-9a-f]{32})"$/;

export async function startLokiStandIn(): Promise<LokiStandIn> {
  const lines: LokiLine[] = [];
  const queries: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://loki');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      try {
        if (req.method === 'POST' && url.pathname === '/otlp/v1/logs') {
          ingest(decodeOtlp('logs', Buffer.concat(chunks), String(req.headers['content-type'] ?? ''), req.headers['content-encoding'] as string | undefined), lines);
          return reply(200, {});
        }
        if (req.method === 'GET' && url.pathname === '/loki/api/v1/query_range') {
          const query = url.searchParams.get('query') ?? '';
          queries.push(query);
          const m = QUERY.exec(query);
          if (!m) return reply(400, { status: 'error', error: `parse error: unsupported query ${query}` });
          const service = m[1]!.replace(/\\(.)/g, '$1');
          const found = lines.filter((l) => l.service === service && l.traceId === m[2]);
          const result = found.length ? [{ stream: { service_name: service }, values: found.map((l) => [l.timeNs, l.line]) }] : [];
          return reply(200, { status: 'success', data: { resultType: 'streams', result } });
        }
        reply(404, { status: 'error', error: `not found: ${req.method} ${url.pathname}` });
      } catch (err) {
        reply(400, { status: 'error', error: String(err) });
      }
    });
  });
  const { url, close } = await listenLocal(server);
  return {
    url,
    lines,
    queries,
    close,
  };
}

function ingest(body: any, into: LokiLine[]): void {
  for (const rl of body.resourceLogs ?? []) {
    const service = (rl.resource?.attributes ?? []).find((a: any) => a.key === 'service.name')?.value?.stringValue ?? '';
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        into.push({ service, traceId: idHex(r.traceId), timeNs: String(r.timeUnixNano ?? '0'), line: String(r.body?.stringValue ?? '') });
      }
    }
  }
}
