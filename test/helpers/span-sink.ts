// A counting trace backend for the soak and the loss tests: an OTLP/HTTP endpoint (the Collector's
// otlp_http exporter points at it) that keeps the span ids it received for one service, so
// "delivered" is the number of distinct spans, whatever a retry or a Collector restart sent twice
// (the Collector's persistent queue delivers at least once). Only the ids are kept: a soak sends
// hundreds of thousands of spans.
import { createServer } from 'node:http';
import { decodeOtlp, idHex } from './otlp-receiver.js';
import { listenLocal } from './process.js';

export interface SpanSink {
  /** Base URL: the Collector's JAEGER_ENDPOINT (its otlp_http/jaeger leg posts to <url>/v1/traces). */
  url: string;
  /** Distinct span ids received for the service. */
  ids: Set<string>;
  /** Spans received for the service, duplicates included. */
  received(): number;
  close(): Promise<void>;
}

interface KeyValue {
  key: string;
  value?: { stringValue?: string };
}
interface TracesBody {
  resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<{ spanId?: Uint8Array | string }> }> }>;
}

export async function startSpanSink(service: string): Promise<SpanSink> {
  const ids = new Set<string>();
  let received = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: TracesBody;
      try {
        body = decodeOtlp('traces', Buffer.concat(chunks), String(req.headers['content-type'] ?? ''), req.headers['content-encoding'] as string | undefined) as TracesBody;
      } catch (err) {
        res.writeHead(400).end(String(err));
        return;
      }
      for (const rs of body.resourceSpans ?? []) {
        if (!rs.resource?.attributes?.some((a) => a.key === 'service.name' && a.value?.stringValue === service)) continue;
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            received++;
            ids.add(idHex(s.spanId));
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  const { url, close } = await listenLocal(server);
  return {
    url,
    ids,
    received: () => received,
    close,
  };
}
