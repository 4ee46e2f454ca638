// pino records in Sentry (OTEL_MONITOR_SENTRY_LOGS):
//   errors       error/fatal records become events (Sentry's own pinoIntegration, handled: true),
//                lower levels become breadcrumbs on the next event
//   breadcrumbs  every record is a breadcrumb, none is an event
//   off          nothing from pino
// The records themselves go to the Collector as OTel logs either way. Sentry's pinoIntegration
// sends lower levels to Sentry Logs, not breadcrumbs, so breadcrumbs come from the same channel
// here (pino >= 9.10 publishes `tracing:pino_asJson`).
import { tracingChannel } from 'node:diagnostics_channel';
import type * as SentryNode from '@sentry/node';
import type { SentryLogs } from '../config.js';
import type { Redactor } from '../processors/redaction.js';
import { log, describe } from '../log.js';

const EVENT_LEVELS = ['error', 'fatal'];
const SENTRY_LEVEL: Record<string, SentryNode.SeverityLevel> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warning',
  error: 'error',
  fatal: 'fatal',
};
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err', 'trace_id', 'span_id', 'trace_flags']);

/** The Sentry integrations for pino: Sentry's own for events (none in breadcrumbs/off mode). */
export function pinoIntegrations(Sentry: typeof SentryNode, mode: SentryLogs): Array<ReturnType<typeof SentryNode.pinoIntegration>> {
  if (mode !== 'errors') return [];
  return [Sentry.pinoIntegration({ log: { levels: [] }, error: { levels: EVENT_LEVELS as never[], handled: true } })];
}

/** Breadcrumbs from pino records below the event levels (all levels in breadcrumbs mode). */
export function pinoBreadcrumbs(Sentry: typeof SentryNode, mode: SentryLogs, redactor: Redactor): void {
  if (mode === 'off') return;
  const channel = tracingChannel('pino_asJson');
  channel.subscribe({
    start() {},
    asyncStart() {},
    asyncEnd() {},
    error() {},
    end(data) {
      try {
        const { instance, arguments: args, result } = data as { instance?: { levels?: { labels?: Record<number, string> } }; arguments?: unknown[]; result?: string };
        const level = instance?.levels?.labels?.[Number(args?.[2])] ?? 'info';
        if (mode === 'errors' && EVENT_LEVELS.includes(level)) return;
        const record = JSON.parse(String(result)) as Record<string, unknown>;
        const extra = Object.fromEntries(Object.entries(record).filter(([k]) => !OMIT.has(k)));
        Sentry.addBreadcrumb({
          category: 'pino',
          level: SENTRY_LEVEL[level] ?? 'info',
          message: typeof record.msg === 'string' ? record.msg : undefined,
          data: redactor.redactValue(extra) as Record<string, unknown>,
        });
      } catch (err) {
        log.debug(`pino breadcrumb skipped: ${describe(err)}`);
      }
    },
  } as Parameters<typeof channel.subscribe>[0]);
}
