// A local OTLP/HTTP sink that counts what agents send, and dd-trace's agent endpoint (msgpack). It accepts /v1/traces, /v1/metrics and
// /v1/logs as protobuf or JSON, gzip-compressed or not. Bodies are only stored while a run is
// under way and decoded afterwards in take(), so decoding never competes with the load run.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { decodeMsgpack } from './msgpack.js';

// The trimmed OTLP schema the tests share; unknown fields are skipped by protobufjs.
const root = protobuf.loadSync(fileURLToPath(new URL('../test/helpers/otlp.proto', import.meta.url)));

// Each signal has the same shape: request.<resource list>[].<scope list>[].<items>[].
// dd-trace's agent API: PUT /v0.4/traces, a msgpack array of traces, each an array of spans.
const DD_TRACES = { name: 'traces', dd: true };
const SIGNALS = {
  '/v1/traces': { name: 'traces', type: root.lookupType('otlp.ExportTraceServiceRequest'), path: ['resourceSpans', 'scopeSpans', 'spans'] },
  '/v1/metrics': { name: 'metrics', type: root.lookupType('otlp.ExportMetricsServiceRequest'), path: ['resourceMetrics', 'scopeMetrics', 'metrics'] },
  '/v1/logs': { name: 'logs', type: root.lookupType('otlp.ExportLogsServiceRequest'), path: ['resourceLogs', 'scopeLogs', 'logRecords'] },
};

/** Starts the sink on a free 127.0.0.1 port. */
export async function startSink() {
  let pending = [];
  const server = http.createServer((req, res) => {
    const signal = SIGNALS[req.url.split('?')[0]];
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (!signal && req.method === 'PUT' && req.url.startsWith('/v0.4/traces')) {
        pending.push({ signal: DD_TRACES, contentType: 'msgpack', encoding: '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"rate_by_service":{}}');
        return;
      }
      if (!signal || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const contentType = String(req.headers['content-type'] ?? '');
      pending.push({ signal, contentType, encoding: String(req.headers['content-encoding'] ?? ''), body: Buffer.concat(chunks) });
      // An empty Export*ServiceResponse means full success in either encoding.
      const json = contentType.includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    /** Decodes and counts everything received since the last take(), then forgets it. */
    take() {
      const batch = pending;
      pending = [];
      return summarise(batch);
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function summarise(batch) {
  const out = {};
  for (const name of ['traces', 'metrics', 'logs']) {
    out[name] = { requests: 0, wireBytes: 0, items: 0, formats: new Set(), names: new Map(), errors: 0 };
  }
  for (const { signal, contentType, encoding, body } of batch) {
    const s = out[signal.name];
    s.requests++;
    s.wireBytes += body.length; // as sent on the wire, i.e. after compression
    if (signal.dd) {
      s.formats.add('msgpack (dd-trace agent API)');
      try {
        for (const trace of decodeMsgpack(body)) {
          for (const sp of trace) {
            s.items++;
            s.names.set(sp.name, (s.names.get(sp.name) ?? 0) + 1);
          }
        }
      } catch {
        s.errors++;
      }
      continue;
    }
    const json = contentType.includes('json');
    s.formats.add(`${json ? 'json' : 'protobuf'}${encoding ? `+${encoding}` : ''}`);
    try {
      const raw = encoding === 'gzip' ? gunzipSync(body) : body;
      const msg = json ? JSON.parse(raw.toString('utf8')) : signal.type.decode(raw);
      const [outer, middle, inner] = signal.path;
      for (const r of msg[outer] ?? []) {
        for (const sc of r[middle] ?? []) {
          for (const item of sc[inner] ?? []) {
            s.items++;
            if (item.name) s.names.set(item.name, (s.names.get(item.name) ?? 0) + 1);
          }
        }
      }
    } catch {
      s.errors++;
    }
  }
  for (const s of Object.values(out)) s.formats = [...s.formats].sort().join(', ');
  return out;
}
