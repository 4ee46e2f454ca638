// A growable protobuf writer over a Node Buffer. It writes the same canonical bytes as the
// otlp-transformer's writer (one byte reserved for a length, widened in place when needed), but
// it is built for writing one span at a time on the span's end: ASCII strings are copied by a
// short loop, longer or non-ASCII ones by Buffer's native UTF-8 writer, and hex ids natively.

const TWO_32 = 4294967296;
const HEX = new Uint8Array(128);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

export class ProtobufWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 16384) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Forgets what was written; the buffer is kept for reuse. */
  reset(): void {
    this.pos = 0;
  }

  varint(value: number): void {
    this.ensure(10);
    const b = this.buf;
    if (value >= 0 && value < TWO_32) {
      let v = value >>> 0;
      while (v > 127) {
        b[this.pos++] = (v & 127) | 128;
        v >>>= 7;
      }
      b[this.pos++] = v;
      return;
    }
    // Two's complement over 64 bits, as protobuf encodes a negative or large int64.
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / TWO_32) >>> 0;
    } else {
      const abs = -value;
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / TWO_32) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 127) {
      b[this.pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    b[this.pos++] = low;
  }

  tag(field: number, wireType: number): void {
    const v = (field << 3) | wireType;
    if (v > 127) return this.varint(v);
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(low >>> 0, this.pos);
    this.buf.writeUInt32LE(high >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  string(s: string): void {
    const len = s.length;
    if (len < 64) {
      this.ensure(len + 1);
      const b = this.buf;
      const start = this.pos;
      b[start] = len;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) break;
        b[start + 1 + i] = c;
      }
      if (i === len) {
        this.pos = start + 1 + len;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.buf.write(s, this.pos, bytes, 'utf8');
    this.pos += bytes;
  }

  bytes(data: Uint8Array): void {
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** A hex id (trace or span id) as bytes; a JS loop beats a native call for 16 or 32 digits. */
  hex(id: string): void {
    const n = id.length >>> 1;
    this.ensure(n + 1);
    const b = this.buf;
    let p = this.pos;
    b[p++] = n;
    for (let i = 0; i < n; i++) {
      // Not-hex digits become 0, so a malformed id keeps its declared length.
      b[p++] = ((HEX[id.charCodeAt(2 * i)] ?? 0) << 4) | (HEX[id.charCodeAt(2 * i + 1)] ?? 0);
    }
    this.pos = p;
  }

  /** Reserves a length byte for a nested message; pass the result to `finish`. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  finish(at: number): void {
    const len = this.pos - at - 1;
    if (len < 128) {
      this.buf[at] = len;
      return;
    }
    const size = len < 16384 ? 2 : len < 2097152 ? 3 : len < 268435456 ? 4 : 5;
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let v = len;
    let p = at;
    while (v > 127) {
      this.buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  raw(data: Uint8Array): void {
    const n = data.length;
    this.ensure(n);
    if (n > 64) {
      this.buf.set(data, this.pos);
      this.pos += n;
      return;
    }
    // TypedArray#set has a fixed cost that dominates for the short cached keys.
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = data[i]!;
    this.pos = p;
  }
}
