// Trace and span ids for the lean tracer, cut from a pool of random bytes instead of the SDK's
// RandomIdGenerator, which calls Math.random() once per four bytes and writes each result into a
// shared buffer (on a hello-world request: 0.25 µs of profile and four heap numbers per span).
// Here one randomFillSync call fills 8 KiB, enough for 341 spans of a new trace, and each id is one
// hex slice of it. Same format and rule as the SDK's: lowercase hex, 32 or 16 characters, never all
// zeros (an all-zero id is invalid; its last byte becomes 1, as the SDK does). The bytes come from
// the operating system's CSPRNG rather than V8's xorshift, so ids are not predictable from others.
// The hex string is built by String.fromCharCode from the digits' char codes, in one call: Buffer's
// toString('hex') crosses into C++ for each id (8 bytes: 100 ns against 34 in a microbenchmark;
// 16 bytes: 71 against 59), and a slice of one long hex string would keep all of it alive for as
// long as any id cut from it (a request id an app stores, say).
// Used only where the provider has the SDK's own generator; an app's IdGenerator is always kept.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8192;
/** The char code of each hex digit, lowercase. */
const DIGIT = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const fromCharCode = String.fromCharCode;

export class IdPool {
  private readonly pool: Buffer;
  private pos: number;

  /** `fill` is the random source (a test passes a fixed one to check the all-zero rule). */
  constructor(private readonly fill: (buf: Buffer) => void = randomFillSync) {
    this.pool = Buffer.allocUnsafe(POOL_BYTES);
    this.pos = POOL_BYTES;
  }

  generateTraceId(): string {
    return this.take(16);
  }

  generateSpanId(): string {
    return this.take(8);
  }

  private take(bytes: number): string {
    if (this.pos + bytes > POOL_BYTES) {
      this.fill(this.pool);
      this.pos = 0;
    }
    const start = this.pos;
    const end = start + bytes;
    this.pos = end;
    const pool = this.pool;
    let zero = true;
    for (let i = start; i < end; i++) {
      if (pool[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) pool[end - 1] = 1;
    return bytes === 8 ? hex8(pool, start) : hex16(pool, start);
  }
}

/** Eight bytes as sixteen hex digits. */
function hex8(p: Buffer, s: number): string {
  const D = DIGIT;
  const a = p[s]!, b = p[s + 1]!, c = p[s + 2]!, d = p[s + 3]!, e = p[s + 4]!, f = p[s + 5]!, g = p[s + 6]!, h = p[s + 7]!;
  // prettier-ignore
  return fromCharCode(
    D[a >> 4]!, D[a & 15]!, D[b >> 4]!, D[b & 15]!, D[c >> 4]!, D[c & 15]!, D[d >> 4]!, D[d & 15]!,
    D[e >> 4]!, D[e & 15]!, D[f >> 4]!, D[f & 15]!, D[g >> 4]!, D[g & 15]!, D[h >> 4]!, D[h & 15]!,
  );
}

/** Sixteen bytes as thirty-two hex digits, in one call (two halves joined would be a cons string to flatten). */
function hex16(p: Buffer, s: number): string {
  const D = DIGIT;
  const a = p[s]!, b = p[s + 1]!, c = p[s + 2]!, d = p[s + 3]!, e = p[s + 4]!, f = p[s + 5]!, g = p[s + 6]!, h = p[s + 7]!;
  const i = p[s + 8]!, j = p[s + 9]!, k = p[s + 10]!, l = p[s + 11]!, m = p[s + 12]!, n = p[s + 13]!, o = p[s + 14]!, q = p[s + 15]!;
  // prettier-ignore
  return fromCharCode(
    D[a >> 4]!, D[a & 15]!, D[b >> 4]!, D[b & 15]!, D[c >> 4]!, D[c & 15]!, D[d >> 4]!, D[d & 15]!,
    D[e >> 4]!, D[e & 15]!, D[f >> 4]!, D[f & 15]!, D[g >> 4]!, D[g & 15]!, D[h >> 4]!, D[h & 15]!,
    D[i >> 4]!, D[i & 15]!, D[j >> 4]!, D[j & 15]!, D[k >> 4]!, D[k & 15]!, D[l >> 4]!, D[l & 15]!,
    D[m >> 4]!, D[m & 15]!, D[n >> 4]!, D[n & 15]!, D[o >> 4]!, D[o & 15]!, D[q >> 4]!, D[q & 15]!,
  );
}

/** The SDK's RandomIdGenerator (sdk-trace's class of that name), which the pool stands in for. */
export function isSdkRandomIdGenerator(ids: object): boolean {
  return ids.constructor?.name === 'RandomIdGenerator';
}
