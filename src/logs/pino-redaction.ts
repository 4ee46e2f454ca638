// The redaction keys as pino `redact` paths, for our logger and for the app's own pino instances.
// pino's redaction matches exact key paths, and each wildcard path costs about 4 us per log call
// (measured: 192 paths `*.*.key`... made a call 150x slower), so only paths without wildcards:
// each key at the top level, as written and capitalised (`password`, `Password`), and the
// credential headers under the usual request/response objects (`req.headers.authorization`).
import type { Instrumentation, InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { REDACTED } from '../processors/redaction.js';

const HEADER_KEYS = ['authorization', 'cookie', 'set-cookie', 'x-api-key'];
const HEADER_PARENTS = ['req.headers', 'res.headers', 'headers'];

const segment = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`);

export function pinoRedactPaths(keys: readonly string[]): string[] {
  const paths = new Set<string>();
  for (const k of keys) {
    paths.add(segment(k));
    paths.add(segment(k.charAt(0).toUpperCase() + k.slice(1)));
  }
  for (const parent of HEADER_PARENTS) {
    for (const h of HEADER_KEYS) {
      const s = segment(h);
      paths.add(s.startsWith('[') ? `${parent}${s}` : `${parent}.${s}`);
    }
  }
  return [...paths];
}

type RedactOption = string[] | { paths: string[]; censor?: unknown; remove?: boolean } | undefined;

/** The app's `redact` option with our paths added; the app's own paths, censor and `remove` stay. */
export function mergeRedact(option: RedactOption, paths: readonly string[]): RedactOption {
  if (Array.isArray(option)) return { paths: [...new Set([...option, ...paths])], censor: REDACTED };
  if (option && typeof option === 'object' && Array.isArray(option.paths)) return { ...option, paths: [...new Set([...option.paths, ...paths])] };
  return { paths: [...paths], censor: REDACTED };
}

const isStream = (v: unknown) => typeof (v as { write?: unknown } | null)?.write === 'function';

/**
 * Wraps the pino factory so that every `pino(options?, destination?)` gets the merged `redact`
 * option. `pino(destination)` and `pino('path')` get an options object put in front.
 */
export function withRedaction<F extends (...args: any[]) => any>(pino: F, paths: readonly string[]): F {
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    if (first === undefined || first === null) args[0] = { redact: mergeRedact(undefined, paths) };
    else if (typeof first === 'string' || isStream(first)) args.unshift({ redact: mergeRedact(undefined, paths) });
    else if (typeof first === 'object') args[0] = { ...first, redact: mergeRedact((first as { redact?: RedactOption }).redact, paths) };
    return pino.apply(this, args);
  };
  return Object.assign(wrapped, pino) as unknown as F;
}

/**
 * Makes the pino instrumentation hand every app logger the redaction paths: its patch receives a
 * factory that adds them, then adds trace correlation and log sending as usual.
 */
export function redactAppPino(instrumentation: Instrumentation, keys: readonly string[]): void {
  const paths = pinoRedactPaths(keys);
  // The definitions the instrumentation's hooks call (getModuleDefinitions() would build new ones).
  const defs = (instrumentation as unknown as { _modules?: InstrumentationModuleDefinition[] })._modules ?? [];
  for (const def of defs) {
    const patch = def.patch;
    if (!patch) continue;
    def.patch = (module: any, version?: string) => {
      if (module?.[Symbol.toStringTag] === 'Module') {
        // ESM namespace (import-in-the-middle): the instrumentation reads and replaces `default`.
        if (typeof module.default === 'function') module.default = withRedaction(module.default, paths);
        return patch(module, version);
      }
      return patch(typeof module === 'function' ? withRedaction(module, paths) : module, version);
    };
  }
}
