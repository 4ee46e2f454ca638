// Cost of one pino log line, bare and under a preload: lines to /dev/null (sync destination), after
// a warm-up, best of three rounds, in CPU time of this process (user + system: the log export's
// encoding and sending count, other processes on the machine do not). Prints one JSON line.
//   node [--import @org/otel-monitor] bench/pino-lines.mjs [lines] [burst|paced]
// burst: one synchronous loop, as a batch job logs (the export queue fills and the rest is dropped);
// paced: 200 lines, then a 20 ms pause, so that every line can be exported.
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';

const N = Number(process.argv[2] ?? 100_000);
const paced = process.argv[3] === 'paced';
const logger = pino(pino.destination({ dest: '/dev/null', sync: true }));
const child = logger.child({ component: 'bench' });

async function round(n) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    child.info({ order: i, user: 'u-42', ok: true }, 'order processed');
    if (paced && i % 200 === 199) await sleep(20);
  }
  if (paced) await sleep(1500); // the last batch's export
  const { user, system } = process.cpuUsage(t0);
  return ((user + system) * 1000) / n;
}

await round(Math.min(N, 20_000)); // warm-up
const rounds = [await round(N), await round(N), await round(N)];
console.log(JSON.stringify({ mode: paced ? 'paced' : 'burst', nsPerLine: Math.round(Math.min(...rounds)), lines: N }));
