// The built-in checks' driver code against a real PostgreSQL and a real Redis, run in-process:
// pg, ioredis and node-redis each, a wrong password, a stopped server, a missing driver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresCheck, redisCheck } from '../../src/health/builtin-checks.js';
import { startPostgres, startRedis, type RunningPostgres, type RunningRedis } from '../helpers/databases.js';
import { stopAll } from '../helpers/process.js';

let pg: RunningPostgres;
let redis: RunningRedis;
const signal = () => new AbortController().signal;

async function failure(p: unknown): Promise<string> {
  try {
    await p;
  } catch (err) {
    return String(err);
  }
  throw new Error('the check passed');
}

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres('drv-pg-S3cret'), startRedis('drv-redis-S3cret')]);
}, 120_000);

afterAll(async () => {
  await stopAll();
});

describe('built-in check drivers', () => {
  it('pg: SELECT 1 passes; a wrong password fails', async () => {
    expect(await postgresCheck('pg', pg.url, 5000)(signal())).toEqual({ driver: 'pg' });
    const err = await failure(postgresCheck('pg', pg.url.replace(pg.password, 'wrong'), 5000)(signal()));
    expect(err).toMatch(/password authentication failed/);
  });

  it('ioredis and node-redis: PING passes; a wrong password fails', async () => {
    expect(await redisCheck('r', redis.url, 5000, ['ioredis'])(signal())).toEqual({ driver: 'ioredis' });
    expect(await redisCheck('r', redis.url, 5000, ['redis'])(signal())).toEqual({ driver: 'redis' });
    const bad = redis.url.replace(redis.password, 'wrong');
    expect(await failure(redisCheck('r', bad, 5000, ['ioredis'])(signal()))).toMatch(/WRONGPASS|invalid|NOAUTH/i);
    expect(await failure(redisCheck('r', bad, 5000, ['redis'])(signal()))).toMatch(/WRONGPASS|invalid|NOAUTH/i);
  });

  it('a missing driver fails every run with a message that says what to install', async () => {
    const err = await failure(postgresCheck('db', pg.url, 5000, ['no-such-pg-driver'])(signal()));
    expect(err).toMatch(/no-such-pg-driver is not installed in the app .*install it to use this check/);
    expect(err).not.toContain(pg.password);
  });

  it('a stopped server fails fast with each driver, without reconnect loops', async () => {
    await redis.stop();
    for (const driver of ['ioredis', 'redis']) {
      const t = performance.now();
      expect(await failure(redisCheck('r', redis.url, 5000, [driver])(signal()))).toMatch(/ECONNREFUSED|closed|connect/i);
      expect(performance.now() - t).toBeLessThan(4000);
    }
    await pg.stop();
    expect(await failure(postgresCheck('pg', pg.url, 5000)(signal()))).toMatch(/ECONNREFUSED/);
  });
});
