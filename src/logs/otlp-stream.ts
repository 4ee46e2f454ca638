// A pino destination that turns each (already redacted) JSON line into an OpenTelemetry log record
// through the global logs API, as the pino instrumentation does for app loggers. The write happens
// synchronously inside the log call, so the active context (trace, span, request id) is the caller's.
import type * as Api from '@opentelemetry/api';

// pino levels → OpenTelemetry severity numbers.
const SEVERITY: Record<number, [number, string]> = {
  10: [1, 'TRACE'],
  20: [5, 'DEBUG'],
  30: [9, 'INFO'],
  40: [13, 'WARN'],
  50: [17, 'ERROR'],
  60: [21, 'FATAL'],
};
// Fields the record carries elsewhere: severity, timestamp, body, trace context, resource.
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'trace_id', 'span_id', 'trace_flags', 'request_id', 'service', 'release', 'environment']);

export function otlpStream(api: typeof Api, version: string): { write(line: string): void } {
  const logger = api.logs.getLogger('@org/otel-monitor/logger', version);
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const [severityNumber, severityText] = SEVERITY[record.level as number] ?? [9, String(record.level)];
      const attributes: Api.Attributes = {};
      for (const [k, v] of Object.entries(record)) {
        if (SKIP.has(k)) continue;
        if (k === 'err' && v && typeof v === 'object') {
          const e = v as { type?: string; message?: string; stack?: string };
          if (e.type) attributes['exception.type'] = e.type;
          if (e.message) attributes['exception.message'] = e.message;
          if (e.stack) attributes['exception.stacktrace'] = e.stack;
          continue;
        }
        attributes[k] = v as Api.AttributeValue;
      }
      logger.emit({
        timestamp: typeof record.time === 'number' ? record.time : Date.now(),
        severityNumber,
        severityText,
        body: typeof record.msg === 'string' ? record.msg : undefined,
        attributes,
        context: api.context.active(),
      });
    },
  };
}
