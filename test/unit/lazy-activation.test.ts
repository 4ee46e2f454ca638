import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { packageOf } from '../../src/instrumentation/lazy-activation.js';
import { NODE24, ROOT } from '../helpers/app.js';

describe('packageOf', () => {
  it('names the package of bare specifiers only', () => {
    expect(packageOf('express')).toBe('express');
    expect(packageOf('express/lib/router')).toBe('express');
    expect(packageOf('@redis/client')).toBe('@redis/client');
    expect(packageOf('@redis/client/dist/x.js')).toBe('@redis/client');
    for (const s of ['./x.js', '../y', '/abs/z', 'node:http', 'file:///a.js', '@scope']) expect(packageOf(s)).toBeUndefined();
  });
});

describe('lazy activation', () => {
  it("loads an instrumentation's package only when the app loads its module", () => {
    const script = `
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('instrumentation-pino'));
      const before = loaded();
      require('pino');
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const out = execFileSync(NODE24, ['--import', '@org/otel-monitor', '-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', OTEL_LOG_LEVEL: 'warn', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
    }).toString();
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: false, after: true });
  });
});
