// Example @org/otel-monitor plugin: Luna-style request monitoring in InfluxDB line protocol.
//
//   OTEL_MONITOR_PLUGINS=./examples/plugins/influx.js \
//   INFLUX_WRITE_URL='http://influx:8086/api/v2/write?org=acme&bucket=monitoring&precision=ns' \
//   INFLUX_TOKEN=... node --import @org/otel-monitor app.js
//
// Every incoming request (a SERVER span) becomes one point of the `requests` series, and every
// failed one (5xx, or an error status) also one point of the `errors` series:
//   requests,service=<service.name>,route=GET:/users/:id,status_code=200 request_id="<trace id>",execution_time=12.5 <ns>
//   errors,service=...,route=...,status_code=500,error_code=<error.type> request_id="<trace id>" <ns>
// execution_time is in milliseconds; the request id is the trace id (what Sentry and the logs carry).
// Points are buffered (bounded) and written on a timer, on the distribution's flush and at close.
const SERVER = 1;
const ERROR = 2;
const MAX_BUFFERED = 10_000;

/** Tag keys/values and measurement names escape commas, equals signs and spaces. */
const tag = (v) => String(v).replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
const str = (v) => `"${String(v).replace(/["\\]/g, (c) => `\\${c}`)}"`;
const ns = ([s, n]) => BigInt(s) * 1_000_000_000n + BigInt(n);

export function toLines(span, service) {
  const a = span.attributes;
  const method = a['http.request.method'] ?? a['http.method'] ?? 'GET';
  const route = `${method}:${a['http.route'] ?? a['url.path'] ?? '/'}`;
  const status = a['http.response.status_code'] ?? a['http.status_code'] ?? 0;
  const [ds, dn] = span.duration;
  const ms = Math.round((ds * 1e3 + dn / 1e6) * 1000) / 1000;
  const tags = `service=${tag(service)},route=${tag(route)},status_code=${tag(status)}`;
  const at = ns(span.startTime);
  const requestId = span.spanContext().traceId;
  const lines = [`requests,${tags} request_id=${str(requestId)},execution_time=${ms} ${at}`];
  if (Number(status) >= 500 || span.status?.code === ERROR) {
    const code = a['error.type'] ?? String(status);
    lines.push(`errors,${tags},error_code=${tag(code)} request_id=${str(requestId)} ${at}`);
  }
  return lines;
}

const plugin = {
  name: 'influx',
  initialize(ctx) {
    const url = process.env.INFLUX_WRITE_URL;
    if (!url) {
      ctx.logger.warn('INFLUX_WRITE_URL is not set; nothing will be written');
      return {};
    }
    const headers = { 'content-type': 'text/plain; charset=utf-8' };
    if (process.env.INFLUX_TOKEN) headers.authorization = `Token ${process.env.INFLUX_TOKEN}`;
    const service = ctx.release.serviceName;
    let buffer = [];
    let dropped = 0;

    this.write = async () => {
      if (buffer.length === 0) return;
      const body = `${buffer.join('\n')}\n`;
      buffer = [];
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
      if (!res.ok) ctx.logger.warn(`InfluxDB answered HTTP ${res.status}; ${body.split('\n').length - 1} points lost`);
    };
    const interval = Number(process.env.INFLUX_FLUSH_INTERVAL_MS ?? 10_000);
    this.timer = setInterval(() => this.write().catch((err) => ctx.logger.warn(`write failed: ${err.message}`)), interval);
    this.timer.unref();

    return {
      spanProcessors: [
        {
          onStart() {},
          onEnd(span) {
            if (span.kind !== SERVER) return;
            if (buffer.length >= MAX_BUFFERED) {
              if (dropped++ === 0) ctx.logger.warn(`more than ${MAX_BUFFERED} points waiting; dropping`);
              return;
            }
            buffer.push(...toLines(span, service));
          },
          forceFlush: () => Promise.resolve(),
          shutdown: () => Promise.resolve(),
        },
      ],
    };
  },
  flush() {
    return this.write?.();
  },
  close() {
    clearInterval(this.timer);
    return this.write?.();
  },
};

export default plugin;
