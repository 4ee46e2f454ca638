/**
 * An error the CLI reports as one line on stderr with exit code 2: a bad argument, or a server
 * (Prometheus, Alertmanager, Sentry) that cannot be reached or rejects the request.
 */
export class CliError extends Error {
  readonly exitCode = 2;
}

/** A bad or missing argument; the message names it and points to --help. */
export class UsageError extends CliError {}
