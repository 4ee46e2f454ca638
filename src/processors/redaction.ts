// Secrets never leave the process: span attributes, log records and Sentry events pass through here.
// Kept cheap: a Set lookup per attribute key and a substring test before any regex runs.
import type { AnyValue, Attributes, AttributeValue } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { InPlaceProcessor } from './in-place.js';

export const REDACTED = '[REDACTED]';
const URL_KEYS = new Set(['url.full', 'url.query', 'http.url', 'http.target', 'url.original', 'db.connection_string', 'server.address']);

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

  // Attribute keys repeat on every span, so each key's verdict is computed once (bounded cache).
  private readonly verdicts = new Map<string, boolean>();

  /** `http.request.header.authorization` and `user.password` are secret because their last segment is. */
  isSecretKey(key: string): boolean {
    const known = this.verdicts.get(key);
    if (known !== undefined) return known;
    const lower = key.toLowerCase();
    const dot = lower.lastIndexOf('.');
    const secret = this.keySet.has(lower) || (dot >= 0 && this.keySet.has(lower.slice(dot + 1)));
    if (this.verdicts.size < 10_000) this.verdicts.set(key, secret);
    return secret;
  }

  /** Blanks secret query parameter values and the password part of user:password@ in URLs and DSNs. */
  redactString(value: string): string {
    let out = value;
    if (out.includes('@')) out = out.replace(/(\/\/[^/:@\s]*:)[^@/\s]*@/g, `$1${REDACTED}@`);
    if (out.includes('=')) out = out.replace(this.queryParam, `$1${REDACTED}`);
    if (/password=|pwd=/i.test(out)) out = out.replace(/((?:password|pwd)=)[^;\s&]*/gi, `$1${REDACTED}`);
    return out;
  }

  /**
   * `redactString` for serialized JSON (a log line): the same credentials, but a match never runs
   * past a closing quote or backslash, so the line stays valid JSON.
   */
  redactSerialized(line: string): string {
    let out = line;
    if (out.includes('@')) out = out.replace(/(\/\/[^/:@\s"\\]*:)[^@/\s"\\]*@/g, `$1${REDACTED}@`);
    if (out.includes('=')) {
      out = out.replace(this.queryParamInJson, `$1${REDACTED}`);
      if (/password=|pwd=/i.test(out)) out = out.replace(/((?:password|pwd)=)[^;\s&"\\]*/gi, `$1${REDACTED}`);
    }
    return out;
  }

  /** Returns a redacted copy of a nested value, or the same value when nothing needed changing. */
  redactValue(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return value.includes('//') || value.includes('=') ? this.redactString(value) : value;
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

  /** Redacts attributes in place through `set`, touching only the keys that change. */
  redactAttributes(attrs: Attributes, set: (key: string, value: AttributeValue) => void): void {
    for (const key in attrs) {
      const value = attrs[key];
      if (this.isSecretKey(key)) {
        if (value !== REDACTED) set(key, REDACTED);
      } else if (typeof value === 'string' && (URL_KEYS.has(key) || value.includes('://'))) {
        const clean = this.redactString(value);
        if (clean !== value) set(key, clean);
      }
    }
  }
}

export class RedactionSpanProcessor extends InPlaceProcessor implements SpanProcessor {
  constructor(private readonly redactor: Redactor) {
    super();
  }
  onStart(): void {}
  // onEnding runs while the span is still writable, so exporters only ever see the clean values.
  onEnding(span: Span): void {
    this.redactor.redactAttributes(span.attributes, (k, v) => span.setAttribute(k, v));
    for (const event of span.events) {
      if (event.attributes) this.redactor.redactAttributes(event.attributes, (k, v) => (event.attributes![k] = v));
    }
  }
  onEnd(): void {}
}

export class RedactionLogProcessor extends InPlaceProcessor implements LogRecordProcessor {
  constructor(private readonly redactor: Redactor) {
    super();
  }
  onEmit(record: ReadWriteLogRecord): void {
    for (const key in record.attributes) {
      const value = record.attributes[key];
      if (this.redactor.isSecretKey(key)) record.setAttribute(key, REDACTED);
      else if (value !== null && typeof value === 'object') record.setAttribute(key, this.redactor.redactValue(value) as AnyValue);
      else if (typeof value === 'string') {
        const clean = this.redactor.redactValue(value) as string;
        if (clean !== value) record.setAttribute(key, clean);
      }
    }
    if (record.body !== undefined) {
      const clean = this.redactor.redactValue(record.body);
      if (clean !== record.body) record.setBody(clean as AnyValue);
    }
  }
}
