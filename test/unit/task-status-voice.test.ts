// task-status.ts speaks through the distribution's one voice (log.ts): no process.emitWarning, and a
// failing Sentry check-in is said once per distinct failure, without the DSN, never thrown.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import { monitorTask } from '../../src/api/tasks.js';
import { setUser } from '../../src/api/user.js';
import { startTestOtel, type TestOtel } from './tasks-otel.js';

let otel: TestOtel | undefined;
let stderr: string[];
let emitWarning: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr.push(String(s));
    return true;
  });
  emitWarning = vi.spyOn(process, 'emitWarning');
});
afterEach(async () => {
  vi.restoreAllMocks();
  await otel?.shutdown();
  otel = undefined;
});

describe('task-status through log.ts', () => {
  it('a throwing Sentry check-in: the task runs, each distinct failure said once, the DSN key kept out', async () => {
    let calls = 0;
    otel = startTestOtel({
      sentry: {
        captureCheckIn() {
          calls++;
          throw new Error(calls % 2 ? 'transport to https://abc123key@o1.ingest.sentry.io/42 is closed' : 'rate limited');
        },
      },
    });
    for (let i = 0; i < 5; i++) expect(monitorTask('nightly', () => i)).toBe(i);
    await expect(monitorTask('other', async () => 'ok')).resolves.toBe('ok');
    expect(calls).toBe(6);
    const lines = stderr.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.startsWith('[otel-monitor] warn: a Sentry check-in failed and was skipped'))).toBe(true);
    expect(lines.join('\n')).not.toContain('abc123key');
    expect(emitWarning).not.toHaveBeenCalled();
  });

  it('the last-seen user cap is said once on stderr, not as a process warning', () => {
    otel = startTestOtel({ lastSeenRoles: ['bot'], maxUsers: 2 });
    const tracer = trace.getTracer('t');
    for (let id = 0; id < 5; id++) {
      const server = tracer.startSpan('GET /', { kind: SpanKind.SERVER });
      const ctx = setRPCMetadata(trace.setSpan(context.active(), server), { type: RPCType.HTTP, span: server });
      context.with(ctx, () => setUser({ id, roles: ['bot'] }));
      server.end();
    }
    const lines = stderr.join('').split('\n').filter((l) => l.includes('last-seen role'));
    expect(lines).toEqual(['[otel-monitor] warn: more than 2 users with a last-seen role; new ones are not recorded']);
    expect(emitWarning).not.toHaveBeenCalled();
  });
});
