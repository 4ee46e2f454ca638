// Attributes this distribution builds itself (strings and numbers, valid by construction) go
// straight into the span's attribute map. The SDK's setAttribute validates each value with a check
// that allocates a WeakSet per call, and startSpan validates and copies its attributes twice:
// measured at 1.5 KB of garbage per request for the server span alone, which is a good part of what
// makes V8 grow its young generation under load. Our LeanSpan (lean-span.ts) keeps the same two
// fields (`attributes`, `_attributesCount`), so it is written the same way. Anything that is not a plain, writable
// attribute object (another SDK, an ended or non-recording span) goes through setAttributes.
import type { Attributes, Span } from '@opentelemetry/api';
import { LeanSpan } from './lean-span.js';

interface SdkSpan {
  attributes?: Record<string, unknown>;
  _attributesCount?: number;
  isRecording(): boolean;
}

/** The SDK span's own attribute map, when it is the kind this can write into and still recording. */
function writable(span: Span): SdkSpan | undefined {
  const s = span as unknown as SdkSpan;
  const ok = typeof s.attributes === 'object' && s.attributes !== null && typeof s._attributesCount === 'number' && span.isRecording();
  return ok ? s : undefined;
}

/** How many keys `attributes` has, or -1 if a value is undefined (such a key is left out). */
function definedCount(attributes: Attributes): number {
  let n = 0;
  for (const key in attributes) {
    if (attributes[key] === undefined) return -1;
    n++;
  }
  return n;
}

export function setOwnAttributes(span: Span, attributes: Attributes): void {
  writeOwnAttributes(span, attributes, false);
}

/**
 * setOwnAttributes for an object built for this span alone, that the caller does not keep or change:
 * a lean span without attributes takes the object itself, no copy.
 */
export function adoptOwnAttributes(span: Span, attributes: Attributes): void {
  writeOwnAttributes(span, attributes, true);
}

function writeOwnAttributes(span: Span, attributes: Attributes, adopt: boolean): void {
  const s = writable(span);
  if (!s) {
    span.setAttributes(attributes);
    return;
  }
  // A lean span's first attributes: the object itself (adopt) or one spread copy, which V8 makes
  // shape and values at once. Adding the keys one by one took 221 ns for six keys and two more
  // after, the copy 45 (micro-benchmark).
  const count = s._attributesCount === 0 && span instanceof LeanSpan ? definedCount(attributes) : -1;
  if (count >= 0) {
    s.attributes = adopt ? (attributes as Record<string, unknown>) : { ...attributes };
    s._attributesCount = count;
    return;
  }
  const target = s.attributes!;
  let added = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    if (!(key in target)) added++;
    target[key] = value;
  }
  // Kept in step so the SDK's attribute count limit still applies to later setAttribute calls.
  s._attributesCount! += added;
}

export function setOwnAttribute(span: Span, key: string, value: string | number): void {
  const s = writable(span);
  if (!s) {
    span.setAttribute(key, value);
    return;
  }
  if (!(key in s.attributes!)) s._attributesCount!++;
  s.attributes![key] = value;
}

/** Removes an attribute before export (redaction), keeping the SDK's attribute count in step. */
export function deleteOwnAttribute(span: Span, key: string): void {
  const s = span as unknown as SdkSpan;
  if (typeof s.attributes !== 'object' || s.attributes === null || !(key in s.attributes)) return;
  delete s.attributes[key];
  if (typeof s._attributesCount === 'number') s._attributesCount--;
}
