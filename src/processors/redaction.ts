// Secrets never leave the process: span attributes, log records and Sentry events pass through here.
// Kept cheap: a Set lookup per attribute key and a substring test before any regex runs.
import type { AnyValue, Attributes, AttributeValue } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { InPlaceProcessor } from './in-place.js';
import { deleteOwnAttribute } from '../instrumentation/own-attributes.js';
import { log, describe } from '../log.js';
import { countDrop } from '../exporters/pipeline-counters.js';
import { markUnredacted } from '../exporters/counting-processors.js';

export const REDACTED = '[REDACTED]';
const URL_KEYS = new Set(['url.full', 'url.path', 'url.query', 'http.url', 'http.target', 'url.original', 'db.connection_string', 'server.address']);
/** Where a server span keeps the client's IP address (OTEL_MONITOR_COLLECT_CLIENT_ADDRESS=false drops them). */
export const CLIENT_ADDRESS_KEYS = [
  'client.address',
  'network.peer.address',
  'http.client_ip',
  'net.peer.ip',
  'net.sock.peer.addr',
  'http.request.header.x-forwarded-for',
  'http.request.header.x-real-ip',
  'http.request.header.forwarded',
];
const SERVER = 1; // SpanKind.SERVER
const SAMPLED = 1; // TraceFlags.SAMPLED
// What a key is to redactAttributes: secret (its value is blanked), a URL (its value is checked for
// credentials), or plain (checked only when the value looks like a URL).
type KeyKind = 0 | 1 | 2;
const PLAIN_KEY = 0;
const SECRET_KEY = 1;
const URL_KEY = 2;
const setSpanAttribute = (span: Span, key: string, value: AttributeValue): void => void span.setAttribute(key, value);
const setOwn = (attrs: Attributes, key: string, value: AttributeValue): void => void (attrs[key] = value);

// PII a server sees in URLs and logs without anyone meaning to send it: e-mail addresses (also
// percent-encoded, as forms submit them; not the user@ of scheme://user@host) and card numbers (13-19
// digits, optionally grouped, starting as the card networks' numbers do (2-6, so millisecond
// timestamps are never taken for one), that pass the Luhn check).
// A userinfo of 16 or more characters with no password part is a token (git remotes with a personal
// access token, a DSN's key); shorter ones are user names such as ssh://git@host and are kept.
const TOKEN_USERINFO = /(\/\/)[^/:@\s"\\[\]]{16,}@/g;
const EMAIL = /(?<!\/\/)(?<![\w.%+-])[\w.%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const CARD = /(?<![\d-])[2-6](?:[ -]?\d){12,18}(?![\d-])/g;
const MAYBE_CARD = /\d{4}[ -]?\d{4}[ -]?\d{4}/;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Whether a string may hold something redactString removes; most strings fail every test at once.
 * Each of its rules needs one of these: a userinfo or an e-mail address an `@` (or `%40`), a query
 * parameter or `password=` an `=`, a card number 12 digits. A URL without any (`//` alone is not
 * one) skips redactString, whose two regular expressions it used to run on every client span.
 */
function mayHoldSecret(s: string): boolean {
  // MAYBE_CARD needs 12 characters: a short value (a path such as `/`) skips the regex.
  return s.includes('=') || s.includes('@') || s.includes('%40') || (s.length >= 12 && MAYBE_CARD.test(s));
}

export class Redactor {
  private readonly keySet: Set<string>;
  private readonly queryParam: RegExp;
  private readonly queryParamInJson: RegExp;

  constructor(readonly keys: string[]) {
    this.keySet = new Set(keys.map((k) => k.toLowerCase()));
    const alternatives = [...this.keySet].map((k) => k.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|');
    // A bare query string (url.query) starts with its first parameter, so the start counts too.
    this.queryParam = new RegExp(`((?:^|[?&;])(?:${alternatives})=)[^&#;]*`, 'gi');
    this.queryParamInJson = new RegExp(`((?:[?&;"\\s])(?:${alternatives})=)[^&#;"\\\\\\s]*`, 'gi');
  }

  // Attribute keys repeat on every span, so each key's verdict is computed once (bounded cache):
  // one lookup answers both questions redactAttributes asks of a key.
  private readonly verdicts = new Map<string, KeyKind>();

  private kindOf(key: string): KeyKind {
    const known = this.verdicts.get(key);
    if (known !== undefined) return known;
    const lower = key.toLowerCase();
    const dot = lower.lastIndexOf('.');
    const secret = this.keySet.has(lower) || (dot >= 0 && this.keySet.has(lower.slice(dot + 1)));
    const kind = secret ? SECRET_KEY : URL_KEYS.has(key) ? URL_KEY : PLAIN_KEY;
    if (this.verdicts.size < 10_000) this.verdicts.set(key, kind);
    return kind;
  }

  /** `http.request.header.authorization` and `user.password` are secret because their last segment is. */
  isSecretKey(key: string): boolean {
    return this.kindOf(key) === SECRET_KEY;
  }

  /**
   * Blanks secret query parameter values, the password part of user:password@ in URLs and DSNs, a
   * token used as the whole userinfo (https://TOKEN@host, a DSN's key), e-mail addresses and card
   * numbers.
   */
  redactString(value: string): string {
    let out = value;
    if (out.includes('@')) out = out.replace(/(\/\/[^/:@\s]*:)[^@/\s]*@/g, `$1${REDACTED}@`).replace(TOKEN_USERINFO, `$1${REDACTED}@`);
    if (out.includes('=')) {
      out = out.replace(this.queryParam, `$1${REDACTED}`);
      if (/password=|pwd=/i.test(out)) out = out.replace(/((?:password|pwd)=)[^;\s&]*/gi, `$1${REDACTED}`);
    }
    if (out.includes('@') || out.includes('%40')) out = out.replace(EMAIL, REDACTED);
    if (MAYBE_CARD.test(out)) out = out.replace(CARD, (m) => (luhn(m.replace(/[ -]/g, '')) ? REDACTED : m));
    return out;
  }

  /**
   * `redactString` for serialized JSON (a log line): the same credentials, but a match never runs
   * past a closing quote or backslash, so the line stays valid JSON.
   */
  redactSerialized(line: string): string {
    let out = line;
    if (out.includes('@')) out = out.replace(/(\/\/[^/:@\s"\\]*:)[^@/\s"\\]*@/g, `$1${REDACTED}@`).replace(TOKEN_USERINFO, `$1${REDACTED}@`);
    if (out.includes('=')) {
      out = out.replace(this.queryParamInJson, `$1${REDACTED}`);
      if (/password=|pwd=/i.test(out)) out = out.replace(/((?:password|pwd)=)[^;\s&"\\]*/gi, `$1${REDACTED}`);
    }
    return out;
  }

  /** Returns a redacted copy of a nested value, or the same value when nothing needed changing. */
  redactValue(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return mayHoldSecret(value) ? this.redactString(value) : value;
    if (depth > 8 || value === null || typeof value !== 'object') return value;
    // Copy on write: objects are copied only on the path to a change (log records are mostly clean).
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((v, i) => {
        const clean = this.redactValue(v, depth + 1);
        if (clean !== v) (copy ??= value.slice())[i] = clean;
      });
      return copy ?? value;
    }
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const clean = this.isSecretKey(k) ? REDACTED : this.redactValue(v, depth + 1);
      if (clean !== v) (out ??= { ...value })[k] = clean;
    }
    return out ?? value;
  }

  /**
   * A log record's attributes (any value, nested): secret keys at the top level blanked, objects and
   * strings through redactValue. Written through `set`; objects are always set (copied on write).
   * The log processor and the records encoded at emit (exporters/pino-emit.ts) share it.
   */
  redactLogAttributes(attrs: Record<string, unknown>, set: (key: string, value: unknown) => void): void {
    for (const key in attrs) {
      const value = attrs[key];
      if (this.isSecretKey(key)) set(key, REDACTED);
      else if (value !== null && typeof value === 'object') set(key, this.redactValue(value));
      else if (typeof value === 'string') {
        const clean = this.redactValue(value) as string;
        if (clean !== value) set(key, clean);
      }
    }
  }

  /**
   * Redacts attributes in place through `set(target, key, value)`, touching only the keys that
   * change. The receiver is passed apart so a caller with a fixed setter (the span processor, on
   * every span) needs no closure per call.
   */
  redactAttributes<T>(attrs: Attributes, target: T, set: (target: T, key: string, value: AttributeValue) => void): void {
    for (const key in attrs) {
      const value = attrs[key];
      const kind = this.kindOf(key);
      if (kind === SECRET_KEY) {
        if (value !== REDACTED) set(target, key, REDACTED);
      } else if (typeof value === 'string' && (kind === URL_KEY || value.includes('://')) && mayHoldSecret(value)) {
        const clean = this.redactString(value);
        if (clean !== value) set(target, key, clean);
      }
    }
  }
}

export class RedactionSpanProcessor extends InPlaceProcessor implements SpanProcessor {
  constructor(
    private readonly redactor: Redactor,
    private readonly collectClientAddress = true,
  ) {
    super();
  }
  onStart(): void {}
  // onEnding runs while the span is still writable, so exporters only ever see the clean values.
  onEnding(span: Span): void {
    try {
      this.redact(span);
    } catch (err) {
      // A span that could not be cleaned is not exported: unsampled now, the exporting processor skips it.
      (span.spanContext() as { traceFlags: number }).traceFlags &= ~SAMPLED;
      countDrop('span', 'redaction_failed');
      log.once('error', 'span-redaction', `a span could not be redacted and was dropped: ${describe(err)}`);
    }
  }
  private redact(span: Span): void {
    if (!this.collectClientAddress && span.kind === SERVER) {
      for (const key of CLIENT_ADDRESS_KEYS) if (key in span.attributes) deleteOwnAttribute(span, key);
    }
    this.redactor.redactAttributes(span.attributes, span, setSpanAttribute);
    // Indexed: for...of allocated an iterator per span, for a list that is nearly always empty.
    const events = span.events;
    for (let i = 0; i < events.length; i++) {
      const attributes = events[i]!.attributes;
      if (attributes) this.redactor.redactAttributes(attributes, attributes, setOwn);
    }
  }
  onEnd(): void {}
}

export class RedactionLogProcessor extends InPlaceProcessor implements LogRecordProcessor {
  constructor(private readonly redactor: Redactor) {
    super();
  }
  onEmit(record: ReadWriteLogRecord): void {
    try {
      this.redact(record);
    } catch (err) {
      markUnredacted(record); // kept back by the export gate (counting-processors.ts)
      log.once('error', 'log-redaction', `a log record could not be redacted and was dropped: ${describe(err)}`);
    }
  }

  private redact(record: ReadWriteLogRecord): void {
    this.redactor.redactLogAttributes(record.attributes, (k, v) => record.setAttribute(k, v as AnyValue));
    if (record.body !== undefined) {
      const clean = this.redactor.redactValue(record.body);
      if (clean !== record.body) record.setBody(clean as AnyValue);
    }
  }
}
