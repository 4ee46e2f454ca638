// Reading and adding an undici request's headers where they are, without building a Map of all of
// them (upstream does, to read one) or injecting into a temporary object first.

/** The parts of undici's Request (Node's bundled copy and the npm package) this tracer touches. */
export interface UndiciRequest {
  method: string;
  origin: unknown;
  path: string;
  /** `[name, value, name, value, ...]` since undici 6; one `name: value\r\n` string before. */
  headers: unknown;
  addHeader?(name: string, value: string): unknown;
}

/** The last user-agent value, as upstream records it; names are in the app's case. */
export function userAgentOf(request: UndiciRequest): string | undefined {
  const headers = request.headers;
  if (Array.isArray(headers)) {
    for (let i = headers.length - 2; i >= 0; i -= 2) {
      const name: unknown = headers[i];
      if (typeof name === 'string' && name.length === 10 && name.toLowerCase() === 'user-agent') {
        const value: unknown = headers[i + 1];
        return Array.isArray(value) ? String(value[value.length - 1]) : String(value);
      }
    }
    return undefined;
  }
  if (typeof headers === 'string') {
    const m = /(?:^|\r\n)user-agent:([^\r\n]*)(?![\s\S]*\r\nuser-agent:)/i.exec(headers);
    return m ? m[1]!.trim() : undefined;
  }
  return undefined;
}

/** Whether the app set header `lowerName` on the request itself. */
export function hasHeader(request: UndiciRequest, lowerName: string): boolean {
  const headers = request.headers;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      const name: unknown = headers[i];
      if (typeof name === 'string' && name.length === lowerName.length && name.toLowerCase() === lowerName) return true;
    }
    return false;
  }
  return typeof headers === 'string' && headers.toLowerCase().includes(`${lowerName}:`);
}

/** Adds one header as undici expects it: addHeader where it exists, else the headers' own form. */
export function addHeader(request: UndiciRequest, name: string, value: string): void {
  if (typeof request.addHeader === 'function') request.addHeader(name, value);
  else if (typeof request.headers === 'string') request.headers += `${name}: ${value}\r\n`;
  else if (Array.isArray(request.headers)) request.headers.push(name, value);
}
