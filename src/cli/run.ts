// Command dispatch for the `otel-monitor` CLI. Kept apart from main.ts (the bin) so tests can run
// commands in-process with a fake Io.
import { CliError, UsageError } from './shared/errors.js';
import { doctor } from './doctor/command.js';
import { health } from './health.js';
import { lastSeen } from './monitor/last-seen.js';
import { latestRun } from './monitor/latest-run.js';
import type { Io } from './shared/output.js';
import { releasesCompare, COMPARE_HELP } from './releases/compare.js';
import { releasesList, LIST_HELP } from './releases/list.js';
import { rules } from './rules/command.js';
import { summary } from './summary.js';
import { ownVersion } from '../version.js';

export const HELP = `Usage: otel-monitor <command> [options]

Commands:
  monitor latest-run   Alert when tasks have not succeeded recently enough (reads Prometheus).
  monitor last-seen    Alert when users with given roles (bots) have not been seen recently enough.
  rules                Print Prometheus alerting rules (--thresholds FILE for the full set).
  summary              Requests by status class, yield, task runs, health and open alerts per service and release.
  releases list        The releases Prometheus has seen per service.
  releases compare     Is release B worse than release A? A verdict per metric and overall.
  doctor               Show the effective configuration and prove each leg (Collector, Prometheus, Sentry, Loki).
  health               Print each health check's status per service instance (reads Prometheus).

Run "otel-monitor <command> --help" for the options of a command.
Exit status: 0 OK, 1 alert (or regressed, or a critical check unhealthy), 2 usage or connection error,
3 inconclusive (or no health check reported).`;

const MONITOR_HELP = `Usage: otel-monitor monitor <latest-run|last-seen> [options]

  latest-run   --task NAME MINUTES ...     tasks that must have succeeded within MINUTES
  last-seen    --maximum-minutes-since-last-seen N [--user-role ROLE] [--account-role ROLE]

Run "otel-monitor monitor latest-run --help" or "otel-monitor monitor last-seen --help" for details.`;

/** Runs one CLI invocation and returns its exit code; errors become one line on stderr. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`otel-monitor: ${err.message}${err instanceof UsageError ? ' (see --help)' : ''}`);
      return err.exitCode;
    }
    io.err(`otel-monitor: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

async function dispatch(argv: readonly string[], io: Io): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.out(HELP);
      return command === undefined ? 2 : 0;
    case '--version':
      io.out(ownVersion() ?? 'unknown');
      return 0;
    case 'rules':
      return rules(argv.slice(1), io);
    case 'summary':
      return summary(argv.slice(1), io);
    case 'releases':
      return releases(sub, rest, io);
    case 'doctor':
      return doctor(argv.slice(1), io);
    case 'health':
      return health(argv.slice(1), io);
    case 'monitor':
      if (sub === 'latest-run') return latestRun(rest, io);
      if (sub === 'last-seen') return lastSeen(rest, io);
      if (sub === undefined || sub === '-h' || sub === '--help') {
        io.out(MONITOR_HELP);
        return sub === undefined ? 2 : 0;
      }
      io.err(`otel-monitor: unknown monitor command "${sub}" (expected latest-run or last-seen)`);
      return 2;
    default:
      io.err(`otel-monitor: unknown command "${command}" (see otel-monitor --help)`);
      return 2;
  }
}

function releases(sub: string | undefined, rest: string[], io: Io): Promise<number> | number {
  if (sub === 'list') return releasesList(rest, io);
  if (sub === 'compare') return releasesCompare(rest, io);
  if (sub === undefined || sub === '-h' || sub === '--help') {
    io.out(`${LIST_HELP}\n\n${COMPARE_HELP}`);
    return sub === undefined ? 2 : 0;
  }
  io.err(`otel-monitor: unknown releases command "${sub}" (expected list or compare)`);
  return 2;
}

