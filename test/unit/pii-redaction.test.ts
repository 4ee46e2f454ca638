// PII a server sees without anyone meaning to export it: e-mail addresses and card numbers in URLs,
// query strings and log fields; and the client's address on server spans when it is not collected.
import { describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Redactor, RedactionSpanProcessor, REDACTED } from '../../src/processors/redaction.js';
import { DEFAULT_REDACT_KEYS } from '../../src/config.js';

const r = new Redactor(DEFAULT_REDACT_KEYS);

describe('Redactor: e-mail addresses and card numbers', () => {
  it('blanks e-mail addresses in paths, query strings (also percent-encoded) and free text', () => {
    expect(r.redactString('/users/ann.lee+news@example.co.uk/profile')).toBe(`/users/${REDACTED}/profile`);
    expect(r.redactString('email=ann%40example.com&page=2')).toBe(`email=${REDACTED}&page=2`);
    expect(r.redactValue('password reset for bob@corp.example')).toBe(`password reset for ${REDACTED}`);
  });

  it("keeps the user of scheme://user@host, which is a login, not an address (its password is blanked)", () => {
    expect(r.redactString('postgres://app@db.internal:5432/shop')).toBe('postgres://app@db.internal:5432/shop');
    expect(r.redactString('postgres://app:pw@db.internal:5432/shop')).toBe(`postgres://app:${REDACTED}@db.internal:5432/shop`);
  });

  it('blanks card numbers that pass the Luhn check, grouped or not, and keeps ids and timestamps', () => {
    expect(r.redactString('/cards/4111111111111111/charge')).toBe(`/cards/${REDACTED}/charge`);
    expect(r.redactString('card=5555-5555-5555-4444&amount=10')).toBe(`card=${REDACTED}&amount=10`);
    expect(r.redactValue('paid with 4242 4242 4242 4242 today')).toBe(`paid with ${REDACTED} today`);
    // Not Luhn-valid, or a millisecond timestamp, or too short: kept.
    expect(r.redactString('/orders/4111111111111112')).toBe('/orders/4111111111111112');
    expect(r.redactValue('done at 1796036065310')).toBe('done at 1796036065310');
    expect(r.redactString('/items/424242424242')).toBe('/items/424242424242');
  });

  it('redacts them in nested log fields', () => {
    expect(r.redactValue({ user: { email: 'ann@example.com', card: '4111 1111 1111 1111' }, n: 5 })).toEqual({
      user: { email: REDACTED, card: REDACTED },
      n: 5,
    });
  });
});

describe('RedactionSpanProcessor: client address', () => {
  function serverSpan(collect: boolean) {
    const spans = new InMemorySpanExporter();
    const tp = new TracerProvider({ spanProcessors: [new RedactionSpanProcessor(r, collect), new SimpleSpanProcessor({ exporter: spans })] });
    const attributes = {
      'client.address': '203.0.113.9',
      'network.peer.address': '203.0.113.9',
      'http.request.header.x-forwarded-for': '203.0.113.9',
      'url.path': '/users/ann@example.com',
      'server.port': 8080,
    };
    tp.getTracer('t').startSpan('GET', { kind: api.SpanKind.SERVER, attributes }).end();
    tp.getTracer('t').startSpan('GET', { kind: api.SpanKind.CLIENT, attributes }).end();
    return spans.getFinishedSpans();
  }

  it('drops the client address from server spans when not collected, and only there', () => {
    const [server, client] = serverSpan(false);
    expect(Object.keys(server!.attributes).sort()).toEqual(['server.port', 'url.path']);
    expect(server!.attributes['url.path']).toBe(`/users/${REDACTED}`);
    // A client span's peer is the server it called: not the user's address.
    expect(client!.attributes['network.peer.address']).toBe('203.0.113.9');
  });

  it('keeps it by default', () => {
    const [server] = serverSpan(true);
    expect(server!.attributes['client.address']).toBe('203.0.113.9');
  });
});
