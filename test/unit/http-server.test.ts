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
