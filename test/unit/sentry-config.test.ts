// Configuration for Sentry's logs mode and Node's unhandled-rejection mode, and the one warning
// when SENTRY_DSN is set but @sentry/node is not installed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readConfig, unhandledRejectionMode } from '../../src/config.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.doUnmock('../../src/require.js');
  vi.resetModules();
});

describe('OTEL_MONITOR_SENTRY_LOGS', () => {
  it('defaults to errors, accepts breadcrumbs and off, warns once for anything else', () => {
    expect(readConfig({}).config.sentryLogs).toBe('errors');
    expect(readConfig({ OTEL_MONITOR_SENTRY_LOGS: 'Breadcrumbs' }).config.sentryLogs).toBe('breadcrumbs');
    expect(readConfig({ OTEL_MONITOR_SENTRY_LOGS: 'off' }).config.sentryLogs).toBe('off');
    const bad = readConfig({ OTEL_MONITOR_SENTRY_LOGS: 'all' });
    expect(bad.config.sentryLogs).toBe('errors');
    expect(bad.warnings).toEqual(['OTEL_MONITOR_SENTRY_LOGS="all" is not one of errors, breadcrumbs, off; using errors']);
  });
});

describe('unhandledRejectionMode', () => {
  it("is Node's default (throw) unless the command line or NODE_OPTIONS says otherwise; the command line wins", () => {
    expect(unhandledRejectionMode([], undefined)).toBe('throw');
    expect(unhandledRejectionMode([], '--max-old-space-size=100 --unhandled-rejections=warn')).toBe('warn');
    expect(unhandledRejectionMode(['--unhandled-rejections=strict'], '--unhandled-rejections=none')).toBe('strict');
    expect(unhandledRejectionMode(['--unhandled-rejections=bogus'], undefined)).toBe('throw');
  });
});

describe('SENTRY_DSN without @sentry/node', () => {
  it('says so in one warning and starts nothing', async () => {
    vi.doMock('../../src/require.js', () => {
      const requireCjs = Object.assign(
        (id: string) => {
          const err = Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
          throw err;
        },
        { resolve: () => '' },
      );
      return { requireCjs };
    });
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { startSentry } = await import('../../src/sentry/start.js');
    const { config } = readConfig({ SENTRY_DSN: 'https://abc@sentry.example.com/1' });
    const link = startSentry(config, { serviceName: 's', releaseSource: 'none' }, { keys: [] } as never, () => undefined, (fn) => fn());
    expect(link).toBeUndefined();
    const lines = write.mock.calls.map((c) => String(c[0]));
    expect(lines).toEqual(['[otel-monitor] warn: SENTRY_DSN is set but @sentry/node is not installed: Sentry is off (npm install @sentry/node to turn it on)\n']);
    expect(lines.join('')).not.toContain('abc@');
  });
});
