// The example service the demo, the tests and docker-compose run: an Express 5 app with pino logs,
// an outgoing fetch, a database-free "work" route and a route that fails on purpose.
import express from 'express';
import pino from 'pino';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const app = express();

app.get('/', (_req, res) => {
  res.json({ ok: true });
});

app.get('/users/:id', (req, res) => {
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
