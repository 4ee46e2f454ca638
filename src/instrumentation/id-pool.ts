// Trace and span ids for the lean tracer, cut from a pool of random bytes instead of the SDK's
// RandomIdGenerator, which calls Math.random() once per four bytes and writes each result into a
// shared buffer (on a hello-world request: 0.25 µs of profile and four heap numbers per span).
// Here one randomFillSync call fills 8 KiB, enough for 341 spans of a new trace, and each id is one
// hex slice of it. Same format and rule as the SDK's: lowercase hex, 32 or 16 characters, never all
// zeros (an all-zero id is invalid; its last byte becomes 1, as the SDK does). The bytes come from
// the operating system's CSPRNG rather than V8's xorshift, so ids are not predictable from others.
// Used only where the provider has the SDK's own generator; an app's IdGenerator is always kept.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8192;

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
    return pool.toString('hex', start, end);
  }
}

/** The SDK's RandomIdGenerator (sdk-trace's class of that name), which the pool stands in for. */
export function isSdkRandomIdGenerator(ids: object): boolean {
  return ids.constructor?.name === 'RandomIdGenerator';
}
