// The example service the demo, the tests and docker-compose run: an Express 5 app with pino logs,
// an outgoing fetch, a database-free "work" route and a route that fails on purpose.
import express from 'express';
import pino from 'pino';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
// Demo knobs, so `npm run demo` can ship a release that is worse on purpose: the share of
// /users/:id requests that fail, and extra latency on that route.
const errorRate = Number(process.env.DEMO_ERROR_RATE ?? 0);
const delayMs = Number(process.env.DEMO_DELAY_MS ?? 0);
// A slow path (a cache miss, say): every DEMO_SLOW_EVERY-th /users/:id request sleeps DEMO_SLOW_MS.
// Making it sleep longer slows the tail and leaves the median where it was.
const slowEvery = Number(process.env.DEMO_SLOW_EVERY ?? 0);
const slowMs = Number(process.env.DEMO_SLOW_MS ?? 0);
let usersServed = 0;
const app = express();

app.get('/', (_req, res) => {
  res.json({ ok: true });
});

app.get('/users/:id', async (req, res) => {
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  if (slowEvery > 0 && ++usersServed % slowEvery === 0) await new Promise((resolve) => setTimeout(resolve, slowMs));
  if (Math.random() < errorRate) throw new Error('user lookup failed');
  logger.info({ userId: req.params.id, password: 'hunter2' }, 'user looked up');
  res.json({ id: req.params.id });
});

app.get('/upstream', async (_req, res) => {
  const port = server.address().port;
  const r = await fetch(`http://127.0.0.1:${port}/`);
  logger.info({ status: r.status }, 'upstream answered');
  res.json({ upstream: r.status });
});

app.get('/fail', () => {
  throw new Error('deliberate failure for monitoring checks');
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  logger.info({ port: server.address().port }, 'listening');
  if (process.send) process.send({ port: server.address().port });
});
