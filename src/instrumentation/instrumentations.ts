// Builds the instrumentation instances. An instrumentation's package is only loaded when a module it
// patches can be resolved from the app, so a hello-world app does not pay to load forty packages.
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Config } from '../config.js';
import { log, describe } from '../log.js';
import { requireCjs } from '../require.js';
import { CATALOGUE, selectInstrumentations, type CatalogueEntry } from './catalogue.js';

export interface LoadedInstrumentations {
  instrumentations: Instrumentation[];
  names: string[];
  /** Every module specifier the loaded instrumentations patch: the ESM hook include list. */
  modules: string[];
}

const builtins = new Set(builtinModules);

function resolverForApp(): (specifier: string) => boolean {
  const main = process.argv[1];
  const base = main ? dirname(main) : process.cwd();
  const appRequire = createRequire(join(base, 'noop.js'));
  const paths = [base, process.cwd()];
  return (specifier) => {
    if (builtins.has(specifier.split('/')[0]!)) return true;
    try {
      appRequire.resolve(specifier, { paths });
      return true;
    } catch (err) {
      // ESM-only packages refuse require.resolve with a different code but are present.
      return (err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND';
    }
  };
}

function optionsFor(entry: CatalogueEntry, config: Config): Record<string, unknown> {
  switch (entry.name) {
    case 'http':
      // The instrumentation blanks these query parameters' values in url.full and url.query itself.
      return { redactedQueryParams: config.redactKeys, redactedQueryParamsServer: config.redactKeys };
    case 'express':
      // Express 5 middleware layers add a span each per request for little insight; routes and
      // handlers are kept. OTEL_MONITOR_EXPRESS_LAYERS=true brings the middleware spans back.
      return config.expressLayers ? {} : { ignoreLayersType: ['middleware', 'router'] };
    case 'fastify':
      return { registerOnInitialization: true };
    case 'pino':
      return { disableLogSending: config.logs.exporter === 'none' };
    default:
      return {};
  }
}

export function loadInstrumentations(config: Config): LoadedInstrumentations {
  const { selected, unknown } = selectInstrumentations(config.enabledInstrumentations, config.disabledInstrumentations);
  if (unknown.length) {
    log.warn(
      `OTEL_NODE_ENABLED_INSTRUMENTATIONS/OTEL_NODE_DISABLED_INSTRUMENTATIONS name unknown instrumentations (${unknown.join(', ')}); ignoring them. Known: ${CATALOGUE.map((e) => e.name).join(', ')}`,
    );
  }
  const present = resolverForApp();
  const out: LoadedInstrumentations = { instrumentations: [], names: [], modules: [] };
  for (const entry of selected) {
    if (entry.modules.length && !entry.modules.some(present)) continue;
    try {
      const Ctor = (requireCjs(entry.pkg) as Record<string, new (o: object) => Instrumentation>)[entry.exportName];
      if (!Ctor) throw new Error(`${entry.pkg} has no export ${entry.exportName}`);
      out.instrumentations.push(new Ctor(optionsFor(entry, config)));
      out.names.push(entry.name);
      out.modules.push(...entry.modules);
    } catch (err) {
      log.warn(`instrumentation ${entry.name} could not be loaded and is off: ${describe(err)}`);
    }
  }
  return out;
}
