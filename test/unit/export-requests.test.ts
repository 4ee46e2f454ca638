import http from 'node:http';
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { exitAwareAgent, exportHttpModule, isExportRequest } from '../../src/exporters/exit-mode.js';

describe('export requests (kept out of the app client metrics)', () => {
  it("recognises requests on the exporters' agents, and no other", async () => {
    const agent = await exitAwareAgent('http:');
    expect(isExportRequest({ agent })).toBe(true);
    expect(isExportRequest({ agent: new http.Agent() })).toBe(false);
    expect(isExportRequest({})).toBe(false);
    expect(isExportRequest({ agent: false })).toBe(false);
  });

  it("exportHttpModule: node:http's or node:https's request by protocol, remembering each request's agent", () => {
    const agent = new http.Agent();
    expect(isExportRequest({ agent })).toBe(false);
    const req = exportHttpModule('http://127.0.0.1:1/api/1/envelope/').request({ agent, host: '127.0.0.1', port: 1 });
    req.on('error', () => {});
    req.destroy();
    expect(req).toBeInstanceOf(http.ClientRequest);
    expect(isExportRequest({ agent })).toBe(true);
    const tls = new https.Agent();
    const sreq = exportHttpModule('https://127.0.0.1:1/x').request({ agent: tls, host: '127.0.0.1', port: 1 });
    sreq.on('error', () => {});
    sreq.destroy();
    expect((sreq as unknown as { agent: unknown }).agent).toBe(tls);
    expect(isExportRequest({ agent: tls })).toBe(true);
  });
});
