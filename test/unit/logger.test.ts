import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { createLoggerSafely } from '../../src/logs/logger.js';
import { Redactor } from '../../src/processors/redaction.js';

describe('createLoggerSafely', () => {
  it('falls back instead of throwing into the app when a destination cannot start', () => {
    const { config } = readConfig({});
    const setup = { config: { ...config.logger }, redactor: new Redactor(config.redactKeys), base: { service: 's' }, version: '0' };
    // Any destination or option pino refuses: here a level it does not know.
    const broken = { ...setup, config: { ...setup.config, level: 'not-a-level' } };
    const logger = createLoggerSafely(broken);
    expect(typeof logger.info).toBe('function');
    expect(() => logger.info('still works')).not.toThrow();
  });
});
