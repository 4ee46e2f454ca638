// The CLI's connection options (--header, --ca-file, OTEL_MONITOR_PROMETHEUS_TOKEN, Basic auth from
// the URL) against a real local HTTP server: what reaches the server, and that no message holds a
// credential. The end-to-end case through vmauth is test/integration/victoriametrics.test.ts.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseArgs, parseUrl } from '../../src/cli/shared/args.js';
import { openAlerts } from '../../src/cli/shared/alertmanager.js';
import { alertmanagerOption, CONNECTION_SPEC, headerOption, prometheusOption } from '../../src/cli/shared/connection-options.js';
import { CliError, UsageError } from '../../src/cli/shared/errors.js';
import type { Io } from '../../src/cli/shared/output.js';
import { run } from '../../src/cli/run.js';

const io = (env: Record<string, string> = {}): Io => ({ out: () => {}, err: () => {}, env, now: () => 0 });
const parse = (argv: string[]) => parseArgs(argv, { ...CONNECTION_SPEC, 'alertmanager-url': 'value' });

async function withServer(answer: (headers: IncomingHttpHeaders) => [number, string], fn: (url: string, seen: IncomingHttpHeaders[]) => Promise<void>) {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const [status, body] = answer(req.headers);
    res.writeHead(status).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as { port: number }).port}`, seen);
  } finally {
    server.close();
  }
}
const EMPTY = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } });

describe('connection options', () => {
  it('--header NAME=VALUE is repeatable; a value may hold "="; a bad name is a usage error that does not echo the value', () => {
    expect(headerOption(['X-Scope-OrgID=team-a', 'X-Extra=a=b'])).toEqual({ 'x-scope-orgid': 'team-a', 'x-extra': 'a=b' });
    expect(() => headerOption(['no-equals'])).toThrow(UsageError);
    expect(() => headerOption(['bad name=secret-value'])).toThrow(/HTTP header name, got "bad name=\.\.\."/);
  });

  it('sends the headers and the bearer token from the environment', async () => {
    await withServer(
      () => [200, EMPTY],
      async (url, seen) => {
        const client = prometheusOption(parse(['--prometheus-url', url, '--header', 'X-Scope-OrgID=team-a']), io({ OTEL_MONITOR_PROMETHEUS_TOKEN: 's3cr3t-token' }));
        expect(await client.query('up', 1)).toEqual([]);
        expect(seen[0]).toMatchObject({ 'x-scope-orgid': 'team-a', authorization: 'Bearer s3cr3t-token' });
      },
    );
  });

  it('a refusal (401) is one line that names the cause and never echoes the credentials the server saw', async () => {
    // A proxy that quotes the credentials it refused, as some do.
    await withServer(
      (h) => [401, `cannot authorize request with auth tokens ["${h.authorization}"]`],
      async (url) => {
        const withToken = prometheusOption(parse(['--prometheus-url', url]), io({ OTEL_MONITOR_PROMETHEUS_TOKEN: 's3cr3t-token' }));
        const err = (await withToken.query('up', 1).catch((e: Error) => e)) as CliError;
        expect(err).toBeInstanceOf(CliError);
        expect(err.message).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:\d+ refused the request \(HTTP 401\): check OTEL_MONITOR_PROMETHEUS_TOKEN/);
        const basic = prometheusOption(parse(['--prometheus-url', url.replace('://', '://me:pa55word@')]), io());
        const err2 = (await basic.query('up', 1).catch((e: Error) => e)) as CliError;
        expect(err2.message).not.toContain('pa55word');
        expect(basic.displayUrl).toBe(url);
      },
    );
  });

  it('scrubs the credentials from any other answer that quotes them', async () => {
    await withServer(
      (h) => [502, `upstream said no to ${h.authorization}`],
      async (url) => {
        const client = prometheusOption(parse(['--prometheus-url', url]), io({ OTEL_MONITOR_PROMETHEUS_TOKEN: 's3cr3t-token' }));
        const err = (await client.query('up', 1).catch((e: Error) => e)) as CliError;
        expect(err.message).toContain('answered HTTP 502 without JSON ("upstream said no to Bearer ***")');
      },
    );
  });

  it('Alertmanager: Basic auth from its URL, and none of Prometheus\' headers or token', async () => {
    await withServer(
      () => [200, '[]'],
      async (url, seen) => {
        const argv = ['--alertmanager-url', url.replace('://', '://am:pa55word@'), '--header', 'X-Scope-OrgID=team-a'];
        const am = alertmanagerOption(parse(argv), io({ OTEL_MONITOR_PROMETHEUS_TOKEN: 's3cr3t-token' }))!;
        expect(await openAlerts(am)).toEqual([]);
        expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from('am:pa55word').toString('base64')}`);
        expect(seen[0]!['x-scope-orgid']).toBeUndefined();
        expect(am.display).toBe(url);
      },
    );
  });

  it('scrubs a credential passed as a header too', async () => {
    await withServer(
      (h) => [502, `no to ${h['x-api-key']}`],
      async (url) => {
        const client = prometheusOption(parse(['--prometheus-url', url, '--header', 'X-Api-Key=k3y-value']), io());
        const err = (await client.query('up', 1).catch((e: Error) => e)) as CliError;
        expect(err.message).toContain('("no to ***")');
      },
    );
  });

  it('refuses a token together with URL credentials, and an unreadable --ca-file, as usage errors', () => {
    expect(() => prometheusOption(parse(['--prometheus-url', 'http://u:p@127.0.0.1:1']), io({ OTEL_MONITOR_PROMETHEUS_TOKEN: 't' }))).toThrow(/give one of them/);
    expect(() => prometheusOption(parse(['--ca-file', '/nonexistent/ca.pem']), io())).toThrow(/--ca-file: cannot read \/nonexistent\/ca\.pem: ENOENT/);
  });

  it('never prints the credentials of a bad URL', async () => {
    expect(() => parseUrl('ftp://user:hunter22@host', '--prometheus-url')).toThrow(/got "ftp:\/\/\[REDACTED\]@host"/);
    let err = '';
    const code = await run(['health', '--prometheus-url', 'http://user:hunter22@bad host'], { out: () => {}, err: (t: string) => (err += t), env: {}, now: () => 0 });
    expect(code).toBe(2);
    expect(err).not.toContain('hunter22');
  });

  it('one help block for the connection options in every Prometheus-reading command', async () => {
    for (const cmd of [['health'], ['summary'], ['releases', 'list'], ['releases', 'compare'], ['monitor', 'latest-run'], ['monitor', 'last-seen']]) {
      let out = '';
      const code = await run([...cmd, '--help'], { out: (t: string) => (out += t), err: () => {}, env: {}, now: () => 0 });
      expect(code, cmd.join(' ')).toBe(0);
      expect(out, cmd.join(' ')).toContain('--header NAME=VALUE');
      expect(out, cmd.join(' ')).toContain('OTEL_MONITOR_PROMETHEUS_TOKEN');
      expect(out.match(/--prometheus-url/g), cmd.join(' ')).toHaveLength(1);
    }
  });
});
