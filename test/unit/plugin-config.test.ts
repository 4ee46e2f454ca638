// The config a plugin receives: every secret the environment can carry is replaced.
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { redactedConfig } from '../../src/plugins/index.js';

describe('plugin context config', () => {
  it('has no header value, URL credential or DSN, and is frozen', () => {
    const { config } = readConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:p4ssw0rd@collector.example:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer t0k3n,x-api-key=k3y',
      SENTRY_DSN: 'https://publickey123@o1.ingest.sentry.io/42',
      OTEL_MONITOR_PLUGINS: './a.js',
    });
    const ctx = redactedConfig(config);
    const text = JSON.stringify(ctx);
    for (const secret of ['p4ssw0rd', 't0k3n', 'k3y', 'publickey123']) expect(text).not.toContain(secret);
    expect((ctx.traces as any).headers).toEqual({ authorization: '[REDACTED]', 'x-api-key': '[REDACTED]' });
    expect((ctx.sentry as any).dsn).toBe('[REDACTED]');
    expect(ctx.plugins).toEqual(['./a.js']);
    expect(Object.isFrozen(ctx)).toBe(true);
    // The running config is untouched.
    expect(config.traces.headers.authorization).toBe('Bearer t0k3n');
  });
});
