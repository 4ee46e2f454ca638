import { context, SpanKind, trace } from '@opentelemetry/api';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { monitorTask } from '../../src/api/tasks.js';
import { setUser } from '../../src/api/user.js';
import { AlwaysOffSampler, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { monitorSlug, recordTaskSpans } from '../../src/processors/task-status.js';
import * as S from '../../src/semconv.js';
import { pointWith, startTestOtel, type TestOtel } from './tasks-otel.js';

let otel: TestOtel | undefined;
afterEach(async () => {
  await otel?.shutdown();
  otel = undefined;
});

const nowSeconds = () => Date.now() / 1000;

describe('TaskStatusSpanProcessor: task metrics', () => {
  it('counts runs by task and status, records durations and the last run/success/failure times', async () => {
    otel = startTestOtel();
    const before = nowSeconds();
    monitorTask('import_prices', () => 1);
    monitorTask('import_prices', () => 2);
    await monitorTask('import_prices', async () => {
      throw new Error('x');
    }).catch(() => undefined);
    monitorTask('get_weather_forecasts', () => 3);
    const after = nowSeconds();

    const runs = await otel.points(S.METRIC_TASK_RUNS);
    expect(pointWith(runs, { [S.ATTR_TASK_NAME]: 'import_prices', [S.ATTR_TASK_STATUS]: 'ok' })?.value).toBe(2);
    expect(pointWith(runs, { [S.ATTR_TASK_NAME]: 'import_prices', [S.ATTR_TASK_STATUS]: 'error' })?.value).toBe(1);
    expect(pointWith(runs, { [S.ATTR_TASK_NAME]: 'get_weather_forecasts', [S.ATTR_TASK_STATUS]: 'ok' })?.value).toBe(1);
    expect(runs).toHaveLength(3);

    const durations = await otel.points(S.METRIC_TASK_DURATION);
    const okDuration = pointWith(durations, { [S.ATTR_TASK_NAME]: 'import_prices', [S.ATTR_TASK_STATUS]: 'ok' });
    expect((okDuration?.value as Histogram).count).toBe(2);
    expect(await otel.unit(S.METRIC_TASK_DURATION)).toBe('s');

    for (const name of [S.METRIC_TASK_LAST_RUN, S.METRIC_TASK_LAST_SUCCESS, S.METRIC_TASK_LAST_FAILURE]) {
      expect(await otel.unit(name)).toBe('s');
    }
    const success = await otel.points(S.METRIC_TASK_LAST_SUCCESS);
    const failure = await otel.points(S.METRIC_TASK_LAST_FAILURE);
    const lastRun = await otel.points(S.METRIC_TASK_LAST_RUN);
    const importSuccess = pointWith(success, { [S.ATTR_TASK_NAME]: 'import_prices' })?.value as number;
    const importFailure = pointWith(failure, { [S.ATTR_TASK_NAME]: 'import_prices' })?.value as number;
    expect(importSuccess).toBeGreaterThanOrEqual(before - 0.01);
    expect(importFailure).toBeLessThanOrEqual(after + 0.01);
    expect(importFailure).toBeGreaterThanOrEqual(importSuccess);
    expect(pointWith(lastRun, { [S.ATTR_TASK_NAME]: 'import_prices' })?.value).toBe(importFailure);
    // A task that never failed has no failure series at all (not a 0 that would look like 1970).
    expect(pointWith(failure, { [S.ATTR_TASK_NAME]: 'get_weather_forecasts' })).toBeUndefined();
    // The gauges carry only the task name: one series per task.
    expect(Object.keys(success[0]!.attributes)).toEqual([S.ATTR_TASK_NAME]);
  });

  it('ignores spans that are not tasks', async () => {
    otel = startTestOtel();
    trace.getTracer('t').startSpan('GET /', { kind: SpanKind.SERVER }).end();
    expect(await otel.points(S.METRIC_TASK_RUNS)).toEqual([]);
    expect(await otel.points(S.METRIC_TASK_LAST_RUN)).toEqual([]);
  });
});

describe('recordTaskSpans sampler', () => {
  it('keeps task runs visible to the processor when the sampler drops them, without exporting them', async () => {
    otel = startTestOtel({ sampler: recordTaskSpans(new ParentBasedSampler({ root: new AlwaysOffSampler() })) });
    const tracer = trace.getTracer('t');
    tracer.startActiveSpan('GET /', (request) => {
      monitorTask('inside_unsampled_request', () => 1);
      tracer.startSpan('child').end();
      request.end();
    });
    monitorTask('unsampled_root', () => 2);
    const runs = await otel.points(S.METRIC_TASK_RUNS);
    expect(runs.map((p) => p.attributes[S.ATTR_TASK_NAME]).sort()).toEqual(['inside_unsampled_request', 'unsampled_root']);
    expect(otel.spans.getFinishedSpans()).toEqual([]);
  });

  it('passes other decisions through', () => {
    const always = recordTaskSpans(new TraceIdRatioBasedSampler(1));
    const r = always.shouldSample(context.active(), '0af7651916cd43dd8448eb211c80319c', 'x', SpanKind.INTERNAL, {}, []);
    expect(r.decision).toBe(2);
    expect(always.toString()).toMatch(/^RecordTaskSpans\{TraceIdRatioBased/);
  });
});

describe('TaskStatusSpanProcessor: Sentry check-ins', () => {
  function fakeSentry() {
    const calls: Array<{ checkIn: any; config: any }> = [];
    let n = 0;
    return {
      calls,
      captureCheckIn(checkIn: any, config?: any) {
        calls.push({ checkIn, config });
        return checkIn.checkInId ?? `id-${++n}`;
      },
    };
  }

  it('sends in_progress then ok/error with duration and the derived slug', async () => {
    const sentry = fakeSentry();
    otel = startTestOtel({ sentry });
    monitorTask('pluginA_myFunction', () => 1);
    await monitorTask('Import EPEX prices', async () => {
      throw new Error('down');
    }).catch(() => undefined);
    trace.getTracer('t').startSpan('not a task').end();

    expect(sentry.calls.map((c) => [c.checkIn.monitorSlug, c.checkIn.status, c.checkIn.checkInId])).toEqual([
      ['plugina_myfunction', 'in_progress', undefined],
      ['plugina_myfunction', 'ok', 'id-1'],
      ['import-epex-prices', 'in_progress', undefined],
      ['import-epex-prices', 'error', 'id-2'],
    ]);
    expect(typeof sentry.calls[1]!.checkIn.duration).toBe('number');
    expect(sentry.calls[0]!.config).toBeUndefined();
  });

  it('upserts the monitor when a schedule is given, and honours an explicit slug', () => {
    const sentry = fakeSentry();
    otel = startTestOtel({ sentry });
    monitorTask('nightly', () => 1, {
      schedule: '0 3 * * *',
      timezone: 'Europe/Amsterdam',
      checkinMarginMinutes: 5,
      maxRuntimeMinutes: 30,
      monitorSlug: 'my-nightly',
    });
    expect(sentry.calls[0]!.checkIn.monitorSlug).toBe('my-nightly');
    expect(sentry.calls[0]!.config).toEqual({
      schedule: { type: 'crontab', value: '0 3 * * *' },
      timezone: 'Europe/Amsterdam',
      checkinMargin: 5,
      maxRuntime: 30,
    });
  });

  it('never lets a Sentry failure reach the task', () => {
    otel = startTestOtel({
      sentry: {
        captureCheckIn() {
          throw new Error('sentry broke');
        },
      },
    });
    expect(monitorTask('t', () => 'still fine')).toBe('still fine');
  });

  it('derives slugs as documented', () => {
    expect(monitorSlug('get_weather_forecasts')).toBe('get_weather_forecasts');
    expect(monitorSlug('pluginA_myFunction')).toBe('plugina_myfunction');
    expect(monitorSlug('  Import: EPEX/day-ahead  ')).toBe('import-epex-day-ahead');
    expect(monitorSlug('x'.repeat(60))).toHaveLength(50);
    expect(monitorSlug('!!!')).toBe('task');
  });
});

describe('TaskStatusSpanProcessor: last seen', () => {
  function request(user: Parameters<typeof setUser>[0]) {
    const tracer = trace.getTracer('t');
    // As the HTTP instrumentation does: a server span, registered as the request's RPC metadata,
    // and a framework handler span active inside it.
    const server = tracer.startSpan('GET /api', { kind: SpanKind.SERVER });
    const ctx = setRPCMetadata(trace.setSpan(context.active(), server), { type: RPCType.HTTP, span: server });
    const handler = tracer.startSpan('request handler', {}, ctx);
    context.with(trace.setSpan(ctx, handler), () => setUser(user));
    handler.end();
    server.end();
    return { server, handler };
  }

  it('records users with a listed role, labelled with sorted, joined roles', async () => {
    otel = startTestOtel({ lastSeenRoles: ['bot'] });
    const before = nowSeconds();
    request({ id: 42, roles: ['uploader', 'bot'], accountRoles: ['SubscriberToServiceXYZ'] });
    request({ id: 'alice', roles: ['admin'] });
    request({ id: 'anon' });

    const points = await otel.points(S.METRIC_USER_LAST_SEEN);
    expect(points).toHaveLength(1);
    expect(points[0]!.attributes).toEqual({
      [S.ATTR_ENDUSER_ID]: '42',
      [S.ATTR_USER_ROLES]: 'bot,uploader',
      [S.ATTR_USER_ACCOUNT_ROLES]: 'SubscriberToServiceXYZ',
    });
    expect(points[0]!.value).toBeGreaterThanOrEqual(before - 0.01);
    expect(await otel.unit(S.METRIC_USER_LAST_SEEN)).toBe('s');
  });

  it('puts the user on both the active span and the HTTP server span', () => {
    otel = startTestOtel({ lastSeenRoles: ['bot'] });
    request({ id: 7, roles: ['bot'] });
    const [handler, server] = otel.spans.getFinishedSpans();
    for (const span of [handler, server]) {
      expect(span?.attributes[S.ATTR_ENDUSER_ID]).toBe('7');
      expect(span?.attributes[S.ATTR_USER_ROLES]).toEqual(['bot']);
      expect(span?.attributes[S.ATTR_USER_ACCOUNT_ROLES]).toEqual([]);
    }
  });

  it('records nothing when no role is listed', async () => {
    otel = startTestOtel({ lastSeenRoles: [] });
    request({ id: 1, roles: ['bot'] });
    expect(await otel.points(S.METRIC_USER_LAST_SEEN)).toEqual([]);
  });

  it('setUser without an active span is a no-op', () => {
    expect(() => setUser({ id: 1, roles: ['bot'] })).not.toThrow();
  });
});
