import { describe, expect, it } from 'vitest';
import { hostName } from '../../src/instrumentation/http-server.js';

describe('hostName', () => {
  it('strips the port from Host headers, IPv6 included', () => {
    expect(hostName('example.com')).toBe('example.com');
    expect(hostName('example.com:8080')).toBe('example.com');
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('[2001:db8::1]')).toBe('2001:db8::1');
  });
});

describe('parseNetDev', () => {
  it('reads byte, error and drop counters per device and leaves out loopback', async () => {
    const { parseNetDev } = await import('../../src/instrumentation/network-metrics.js');
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0',
      '  eth0: 5000 40 2 3 0 0 0 0 7000 50 4 5 0 0 0 0',
      '',
    ].join('\n');
    expect(parseNetDev(text)).toEqual([{ device: 'eth0', rxBytes: 5000, rxErrors: 2, rxDropped: 3, txBytes: 7000, txErrors: 4, txDropped: 5 }]);
  });
});
