import { describe, expect, it } from 'vitest';
import { isThreadStreamWorker, threadRole } from '../../src/worker-role.js';

describe('isThreadStreamWorker', () => {
  const shared = () => new SharedArrayBuffer(8);
  it('knows thread-stream by its version stamp, or by the shape of older releases', () => {
    expect(isThreadStreamWorker({ filename: 'file:///t.mjs', dataBuf: shared(), stateBuf: shared(), workerData: { $context: { threadStreamVersion: '4.2.1' } } })).toBe(true);
    expect(isThreadStreamWorker({ filename: 'file:///t.mjs', dataBuf: shared(), stateBuf: shared(), workerData: {} })).toBe(true);
  });
  it("does not mistake an app's own workerData for it", () => {
    for (const data of [undefined, null, 42, 'x', {}, { filename: 'a.js' }, { filename: 'a.js', dataBuf: new ArrayBuffer(8), stateBuf: new ArrayBuffer(8) }]) {
      expect(isThreadStreamWorker(data)).toBe(false);
    }
  });
  it('calls the test thread the main one', () => {
    expect(threadRole()).toBe('main');
  });
});
