// A realistic service, per request: an Express 5 route with a path parameter and a JSON body,
// one PostgreSQL query, one outgoing fetch to a local upstream, one pino log line, and a
// monitorTask every 100 requests. DATABASE_URL and UPSTREAM_URL come from bench/run.js.
import express from 'express';
import pg from 'pg';
import pino from 'pino';
import { monitorTask } from '@org/otel-monitor/api';

// Log lines go to a file as a service's would; /dev/null keeps the disk out of the measurement.
const logger = pino(pino.destination({ dest: '/dev/null', sync: false }));
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 25 });
const upstream = process.env.UPSTREAM_URL;
let served = 0;

const app = express();
app.use(express.json());
app.get('/', (req, res) => {
  res.send('ok'); // the bench's readiness probe
});
app.post('/users/:id', async (req, res, next) => {
  try {
    const id = Number(req.params.id);
    const { rows } = await pool.query('SELECT $1::int AS id, $2::text AS name, now() AS updated_at', [id, req.body.name]);
    const price = await (await fetch(`${upstream}/prices/${id}`)).json();
    logger.info({ userId: id, plan: price.plan }, 'user updated');
    if (++served % 100 === 0) await monitorTask('bench.batch', async () => pool.query('SELECT 1'));
    res.json({ ...rows[0], price: price.amount });
  } catch (err) {
    next(err);
  }
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1');

// See apps/http.js: close rather than die, so agents flush and profiles get written.
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  pool.end().catch(() => {});
});
