// The smallest MessagePack decoder the sink needs to count dd-trace's spans (its agent API,
// /v0.4/traces, sends an array of traces, each an array of span maps). Not a general library:
// 64-bit integers become Numbers and ext values are skipped.

/** Decodes one MessagePack value from `buf`. */
export function decodeMsgpack(buf) {
  let pos = 0;
  const u = (n) => {
    const v = n === 1 ? buf.readUInt8(pos) : n === 2 ? buf.readUInt16BE(pos) : n === 4 ? buf.readUInt32BE(pos) : Number(buf.readBigUInt64BE(pos));
    pos += n;
    return v;
  };
  const i = (n) => {
    const v = n === 1 ? buf.readInt8(pos) : n === 2 ? buf.readInt16BE(pos) : n === 4 ? buf.readInt32BE(pos) : Number(buf.readBigInt64BE(pos));
    pos += n;
    return v;
  };
  const bytes = (n) => buf.subarray(pos, (pos += n));
  const str = (n) => bytes(n).toString('utf8');
  const arr = (n) => Array.from({ length: n }, () => value());
  const map = (n) => {
    const o = {};
    for (let k = 0; k < n; k++) o[value()] = value();
    return o;
  };
  const ext = (n) => (bytes(n + 1), undefined); // type byte + data
  function value() {
    const b = buf[pos++];
    if (b <= 0x7f) return b;
    if (b <= 0x8f) return map(b & 0x0f);
    if (b <= 0x9f) return arr(b & 0x0f);
    if (b <= 0xbf) return str(b & 0x1f);
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bytes(u(1));
      case 0xc5: return bytes(u(2));
      case 0xc6: return bytes(u(4));
      case 0xc7: return ext(u(1));
      case 0xc8: return ext(u(2));
      case 0xc9: return ext(u(4));
      case 0xca: pos += 4; return buf.readFloatBE(pos - 4);
      case 0xcb: pos += 8; return buf.readDoubleBE(pos - 8);
      case 0xcc: return u(1);
      case 0xcd: return u(2);
      case 0xce: return u(4);
      case 0xcf: return u(8);
      case 0xd0: return i(1);
      case 0xd1: return i(2);
      case 0xd2: return i(4);
      case 0xd3: return i(8);
      case 0xd4: return ext(1);
      case 0xd5: return ext(2);
      case 0xd6: return ext(4);
      case 0xd7: return ext(8);
      case 0xd8: return ext(16);
      case 0xd9: return str(u(1));
      case 0xda: return str(u(2));
      case 0xdb: return str(u(4));
      case 0xdc: return arr(u(2));
      case 0xdd: return arr(u(4));
      case 0xde: return map(u(2));
      case 0xdf: return map(u(4));
      default: throw new Error(`msgpack: unknown type 0x${b.toString(16)} at ${pos - 1}`);
    }
  }
  return value();
}
