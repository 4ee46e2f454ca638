import { describe, expect, it } from 'vitest';
import { Redactor, REDACTED } from '../../src/processors/redaction.js';
import { DEFAULT_REDACT_KEYS } from '../../src/config.js';

const r = new Redactor([...DEFAULT_REDACT_KEYS, 'ssn']);

describe('Redactor', () => {
  it('recognises secret keys by their last segment', () => {
    for (const k of ['authorization', 'http.request.header.authorization', 'Cookie', 'user.password', 'api_key', 'ssn']) {
      expect(r.isSecretKey(k), k).toBe(true);
    }
    for (const k of ['http.route', 'user.id', 'keyboard', 'monkey']) expect(r.isSecretKey(k), k).toBe(false);
  });

  it('blanks secret query parameters and URL passwords but keeps the rest', () => {
    expect(r.redactString('https://x/a?token=abc&page=2&signature=zz')).toBe(`https://x/a?token=${REDACTED}&page=2&signature=${REDACTED}`);
    expect(r.redactString('postgres://app:pw@db:5432/shop')).toBe(`postgres://app:${REDACTED}@db:5432/shop`);
    expect(r.redactString('Server=db;User Id=app;Password=pw;')).toBe(`Server=db;User Id=app;Password=${REDACTED};`);
    expect(r.redactString('token=abc&page=2')).toBe(`token=${REDACTED}&page=2`);
    expect(r.redactString('plain text')).toBe('plain text');
  });

  it('blanks a token used as the whole userinfo, in plain strings and in JSON lines, but keeps short user names', () => {
    const token = 'ghp_16CharactersOrMoreAbc123';
    expect(r.redactString(`git clone https://${token}@github.com/org/repo`)).toBe(`git clone https://${REDACTED}@github.com/org/repo`);
    expect(r.redactString('https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42')).toBe(`https://${REDACTED}@o1.ingest.sentry.io/42`);
    expect(r.redactSerialized(`{"msg":"fetch https://${token}@host/x"}`)).toBe(`{"msg":"fetch https://${REDACTED}@host/x"}`);
    expect(r.redactString('ssh://git@github.com/org/repo')).toBe('ssh://git@github.com/org/repo');
    expect(r.redactString('postgres://app:pw@db/shop')).toBe(`postgres://app:${REDACTED}@db/shop`);
  });

  it('redacts nested objects without touching the input', () => {
    const input = { user: 'ann', creds: { password: 'p', token: 't' }, list: [{ secret: 's' }] };
    expect(r.redactValue(input)).toEqual({ user: 'ann', creds: { password: REDACTED, token: REDACTED }, list: [{ secret: REDACTED }] });
    expect(input.creds.password).toBe('p');
  });
});
