import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { DEFAULT_REDACT_KEYS } from '../../src/config.js';
import { mergeRedact, pinoRedactPaths, withRedaction } from '../../src/logs/pino-redaction.js';
import { Redactor } from '../../src/processors/redaction.js';

const redactor = new Redactor(DEFAULT_REDACT_KEYS);

describe('pino redaction paths', () => {
  it('lists each key as written and capitalised, quoting keys that are not identifiers, and credential headers; no wildcards', () => {
    const paths = pinoRedactPaths(['password', 'set-cookie']);
    expect(paths).toEqual(expect.arrayContaining(['password', 'Password', '["set-cookie"]', '["Set-cookie"]', 'req.headers.authorization', 'headers["set-cookie"]']));
    expect(paths.some((p) => p.includes('*'))).toBe(false);
  });

  it("keeps the app's own paths, censor and remove", () => {
    expect(mergeRedact(['a.b'], ['password'])).toEqual({ paths: ['a.b', 'password'], censor: '[REDACTED]' });
    expect(mergeRedact({ paths: ['x'], censor: '***', remove: false }, ['password'])).toEqual({ paths: ['x', 'password'], censor: '***', remove: false });
    expect(mergeRedact(undefined, ['password'])).toEqual({ paths: ['password'], censor: '[REDACTED]' });
  });

  it('wraps the factory for every call shape: no options, options, a destination first', () => {
    const lines: string[] = [];
    const sink = { write: (l: string) => void lines.push(l) };
    const wrapped = withRedaction(pino, pinoRedactPaths(DEFAULT_REDACT_KEYS));
    wrapped({ base: null, redact: ['user.name'] }, sink).info({ password: 'p', user: { name: 'n' } });
    wrapped(sink).info({ Authorization: 'a', req: { headers: { 'set-cookie': 's', 'user-agent': 'ua' } } });
    expect(JSON.parse(lines[0]!)).toMatchObject({ password: '[REDACTED]', user: { name: '[REDACTED]' } });
    expect(JSON.parse(lines[1]!)).toMatchObject({ Authorization: '[REDACTED]', req: { headers: { 'set-cookie': '[REDACTED]', 'user-agent': 'ua' } } });
    expect(wrapped.destination).toBe(pino.destination);
  });
});

describe('Redactor on log lines and records', () => {
  it('redacts credentials in serialized JSON without breaking it', () => {
    const line = JSON.stringify({ msg: 'connect postgres://u:pw@h/db failed', url: 'https://x/?a=1&token=t0k&b=2', note: 'password=hunter2; next', err: { message: 'api_key=k3y"' } });
    const clean = redactor.redactSerialized(line);
    const parsed = JSON.parse(clean);
    expect(parsed).toEqual({
      msg: 'connect postgres://u:[REDACTED]@h/db failed',
      url: 'https://x/?a=1&token=[REDACTED]&b=2',
      note: 'password=[REDACTED]; next',
      err: { message: 'api_key=[REDACTED]"' },
    });
  });

  it('copies only on the path to a change', () => {
    const clean = { a: { b: [1, 2] }, c: 'x' };
    expect(redactor.redactValue(clean)).toBe(clean);
    const dirty = { a: { b: [1, { token: 't' }] }, c: { d: 1 } };
    const out = redactor.redactValue(dirty) as typeof dirty;
    expect(out).toEqual({ a: { b: [1, { token: '[REDACTED]' }] }, c: { d: 1 } });
    expect(out.c).toBe(dirty.c);
    expect(dirty.a.b[1]).toEqual({ token: 't' });
  });
});
