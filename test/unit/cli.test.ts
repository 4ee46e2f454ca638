import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseArgs, parseDuration, parseMinutes } from '../../src/cli/shared/args.js';
import { UsageError } from '../../src/cli/shared/errors.js';
import { judgeUser } from '../../src/cli/monitor/last-seen.js';
import { judgeTask } from '../../src/cli/monitor/latest-run.js';
import { PrometheusClient } from '../../src/cli/shared/prometheus.js';
import { escapeRegex, hasRole, oneOf, str } from '../../src/cli/shared/promql.js';
import { run } from '../../src/cli/run.js';

describe('argument parsing', () => {
  const spec = { task: 'pair', json: 'flag', label: 'list', lookback: 'value' } as const;

  it('reads --task NAME MINUTES, NAME=MINUTES and --task=NAME=MINUTES', () => {
    const p = parseArgs(['--task', 'a', '60', '--task', 'b=5', '--task=c=1.5', '--json'], spec);
    expect(p.pairs.get('task')).toEqual([
      { name: 'a', value: '60' },
      { name: 'b', value: '5' },
      { name: 'c', value: '1.5' },
    ]);
    expect(p.flags.has('json')).toBe(true);
  });

  it('keeps repeated list options and the last single value', () => {
    const p = parseArgs(['--label', 'a=1', '--label=b=2', '--lookback', '1d', '--lookback=2d'], spec);
    expect(p.lists.get('label')).toEqual(['a=1', 'b=2']);
    expect(p.values.get('lookback')).toBe('2d');
  });

  it('rejects unknown options, stray arguments and missing values', () => {
    expect(() => parseArgs(['--nope'], spec)).toThrow(UsageError);
    expect(() => parseArgs(['stray'], spec)).toThrow('unexpected argument "stray"');
    expect(() => parseArgs(['--task', 'a'], spec)).toThrow('--task needs MINUTES after "a"');
    expect(() => parseArgs(['--task', 'a', '--json'], spec)).toThrow(UsageError);
    expect(() => parseArgs(['--lookback'], spec)).toThrow('--lookback needs a value');
    expect(() => parseArgs(['--json=yes'], spec)).toThrow('--json takes no value');
  });

  it('validates minutes and durations', () => {
    expect(parseMinutes('0.5', 'x')).toBe(0.5);
    for (const bad of ['0', '-1', 'abc', '', 'Infinity']) expect(() => parseMinutes(bad, 'x')).toThrow(UsageError);
    expect(parseDuration('1h30m', 'x')).toBe('1h30m');
    expect(() => parseDuration('7 days', 'x')).toThrow(UsageError);
    expect(() => parseDuration('7d]) or vector(1', 'x')).toThrow(UsageError);
  });
});

describe('PromQL building', () => {
  it('quotes label values safely', () => {
    expect(str('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(oneOf('t', ['a.b', 'c|d'])).toBe('t=~"a\\\\.b|c\\\\|d"');
    expect(oneOf('t', ['x"y'])).toBe('t="x\\"y"');
  });

  it('matches a role as a whole list element, like Prometheus (fully anchored RE2)', () => {
    // Extract the regex as Prometheus would see it after unquoting, then anchor it.
    const re = (role: string) => new RegExp(`^(?:${JSON.parse(hasRole('r', role).slice('r=~'.length)) as string})$`);
    expect(re('bot').test('bot')).toBe(true);
    expect(re('bot').test('admin,bot')).toBe(true);
    expect(re('bot').test('bot,uploader')).toBe(true);
    expect(re('bot').test('a,bot,z')).toBe(true);
    expect(re('bot').test('robot')).toBe(false);
    expect(re('bot').test('bots')).toBe(false);
    expect(re('bot').test('robot,bots')).toBe(false);
    expect(re('a.b').test('axb')).toBe(false);
    expect(escapeRegex('a+b(c)')).toBe('a\\+b\\(c\\)');
  });
});

describe('task and user decisions', () => {
  const now = 1_800_000_000;
  it('judges a task ok, late, failed, never succeeded and never reported', () => {
    expect(judgeTask('t', 60, now - 600, undefined, now, '7d').reason).toBe('ok');
    expect(judgeTask('t', 60, now - 600, now - 900, now, '7d').reason).toBe('ok');
    const late = judgeTask('t', 60, now - 3 * 3600, undefined, now, '7d', 'Call Bob.');
    expect(late).toMatchObject({ status: 'ALERT', reason: 'late', minutesSinceLastSuccess: 180, minutesLate: 120 });
    expect(late.message).toBe('Task t last succeeded 180 minutes ago, more than the allowed 60 minutes (120 minutes late). Call Bob.');
    expect(judgeTask('t', 60, now - 600, now - 60, now, '7d')).toMatchObject({ reason: 'failed', minutesLate: 0 });
    expect(judgeTask('t', 60, undefined, now - 60, now, '7d')).toMatchObject({ reason: 'never_succeeded', minutesLate: null });
    expect(judgeTask('t', 60, undefined, undefined, now, '7d')).toMatchObject({ reason: 'never_reported', status: 'ALERT' });
    // Exactly at the threshold is still in time.
    expect(judgeTask('t', 60, now - 3600, undefined, now, '7d').reason).toBe('ok');
  });

  it('judges a user and splits the role labels', () => {
    const u = judgeUser('42', { user_roles: 'bot,uploader', otel_monitor_user_account_roles: '' }, now - 7200, now, 100);
    expect(u).toMatchObject({ status: 'ALERT', roles: ['bot', 'uploader'], accountRoles: [], minutesSinceLastSeen: 120, minutesLate: 20 });
  });
});

describe('Prometheus client', () => {
  async function withServer(handler: Parameters<typeof createServer>[1], fn: (url: URL) => Promise<void>) {
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      await fn(new URL(`http://127.0.0.1:${port}`));
    } finally {
      server.close();
    }
  }

  it('sends URL credentials as Basic auth and keeps a path prefix', async () => {
    let seen: { auth?: string; path?: string } = {};
    await withServer(
      (req, res) => {
        seen = { auth: req.headers.authorization, path: req.url };
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1, '2.5'] }] } }));
      },
      async (url) => {
        const client = new PrometheusClient(new URL(`http://u%40x:p%3Aw@${url.host}/prom/`));
        expect(await client.query('up', 100)).toEqual([{ labels: { a: 'b' }, value: 2.5 }]);
        expect(client.displayUrl).toBe(`http://${url.host}/prom`);
      },
    );
    expect(seen.auth).toBe(`Basic ${Buffer.from('u@x:p:w').toString('base64')}`);
    expect(seen.path).toMatch(/^\/prom\/api\/v1\/query\?query=up&time=100\.000$/);
  });

  it('turns query errors and non-Prometheus answers into one-line reasons', async () => {
    await withServer(
      (req, res) => {
        if (req.url?.includes('bad')) {
          res.writeHead(400);
          res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }));
        } else {
          res.end('<html>hello</html>');
        }
      },
      async (url) => {
        const client = new PrometheusClient(url);
        await expect(client.query('bad', 1)).rejects.toThrow(`Prometheus at http://${url.host} rejected the query (HTTP 400): parse error`);
        await expect(client.query('ok', 1)).rejects.toThrow('answered HTTP 200 without JSON');
      },
    );
  });
});

describe('run()', () => {
  it('returns 2 and writes one line for usage errors, with a pointer to --help', async () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(`ERR ${t}`), env: {}, now: () => 0 };
    expect(await run(['monitor', 'latest-run', '--task', 'a', 'x'], io)).toBe(2);
    expect(lines).toEqual(['ERR otel-monitor: --task a must be a positive number of minutes, got "x" (see --help)']);
  });

  it('health: --help, usage errors (2), an unreachable Prometheus (2)', async () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(`ERR ${t}`), env: {}, now: () => 0 };
    expect(await run(['health', '--help'], io)).toBe(0);
    expect(lines[0]).toMatch(/^Usage: otel-monitor health/);
    expect(await run(['health', '--bogus'], io)).toBe(2);
    expect(lines.at(-1)).toBe('ERR otel-monitor: unknown option --bogus (see --help)');
    expect(await run(['health', '--prometheus-url', 'http://127.0.0.1:1', '--timeout', '2'], io)).toBe(2);
    expect(lines.at(-1)).toMatch(/^ERR otel-monitor: cannot reach Prometheus at http:\/\/127\.0\.0\.1:1/);
  });

  it('prints the package version', async () => {
    let out = '';
    await run(['--version'], { out: (t) => (out += t), err: () => undefined, env: {}, now: () => 0 });
    expect(out).toMatch(/^\d+\.\d+\.\d+/);
  });
});
