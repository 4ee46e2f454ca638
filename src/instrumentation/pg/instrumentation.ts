// Our pg tracer's hooking: an InstrumentationBase, so pg and pg-pool are patched when the app loads
// them (require-in-the-middle, import-in-the-middle and lazy activation, as upstream's are), and it
// is registered with the providers like any instrumentation. The hooking runs once; the per-query
// code is ours (query.ts, pool.ts). OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=pg brings back
// @opentelemetry/instrumentation-pg instead (load-instrumentations.ts).
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type * as Instr from '@opentelemetry/instrumentation';
import { Guard } from '../channel-guard.js';
import type { ContextStore } from './context.js';
import { wrapQuery } from './query.js';
import { observePools, PoolRegistry, wrapPoolConnect } from './pool.js';
import { keyedHistogram } from '../lean-metrics.js';
import type { KeyedHistogram } from '../lean-histogram.js';
import type { LeanOf } from '../lean-tracer.js';

export const PG_SCOPE = '@org/otel-monitor/pg';
// upstream's, so the histogram's buckets are the same
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
// upstream's version ranges
const PG_VERSIONS = ['>=8.0.3 <9'];
const PG_POOL_VERSIONS = ['>=2.0.0 <4'];

export interface PgTracerDeps {
  api: typeof Api;
  core: typeof Core;
  instrumentation: typeof Instr;
  store: ContextStore;
  version: string;
  /** Our tracer beside the SDK Tracer this instrumentation is given: lean spans (sdk.ts), when set. */
  lean?: LeanOf;
}

type Fn = (...args: unknown[]) => unknown;
type Patchable = { prototype: Record<string, unknown> };

/** An ESM namespace (import-in-the-middle) or the CommonJS exports. */
function exportsOf<T>(module: unknown): T {
  const m = module as { [Symbol.toStringTag]?: string; default?: T };
  return (m[Symbol.toStringTag] === 'Module' ? m.default : module) as T;
}

interface Hooks {
  patchClient(module: unknown): unknown;
  patchPool(module: unknown): void;
  unpatch(module: unknown, method: string): unknown;
}

/** pg (its Client, and the pure-JS and native client files) and pg-pool, as upstream hooks them. */
function moduleDefinitions(instr: typeof Instr, hooks: Hooks): Instr.InstrumentationModuleDefinition[] {
  const client = (file: string) => new instr.InstrumentationNodeModuleFile(file, PG_VERSIONS, (m: unknown) => hooks.patchClient(m), (m: unknown) => hooks.unpatch(m, 'query'));
  const pg = new instr.InstrumentationNodeModuleDefinition(
    'pg',
    PG_VERSIONS,
    (m: unknown) => {
      hooks.patchClient(exportsOf<{ Client?: unknown }>(m).Client);
      return m;
    },
    (m: unknown) => {
      hooks.unpatch(exportsOf<{ Client?: unknown }>(m).Client, 'query');
      return m;
    },
    [client('pg/lib/client.js'), client('pg/lib/native/client.js')],
  );
  const pool = new instr.InstrumentationNodeModuleDefinition(
    'pg-pool',
    PG_POOL_VERSIONS,
    (m: unknown) => {
      hooks.patchPool(m);
      return m;
    },
    (m: unknown) => {
      hooks.unpatch(m, 'connect');
      return m;
    },
  );
  return [pg, pool];
}

export function createPgInstrumentation(deps: PgTracerDeps): Instr.Instrumentation {
  const { api, core, instrumentation: instr, store } = deps;
  const guard = new Guard('pg');
  const pools = new PoolRegistry();

  class PgTracer extends instr.InstrumentationBase {
    // Set by _updateMetricInstruments during super(): declared, not initialised, so no class field
    // overwrites it after the base constructor ran.
    declare private duration: KeyedHistogram | undefined;

    constructor() {
      super(PG_SCOPE, deps.version, {});
    }

    protected override _updateMetricInstruments(): void {
      this.duration = keyedHistogram(this.meter, 'db.client.operation.duration', {
        description: 'Duration of database client operations.',
        unit: 's',
        valueType: api.ValueType.DOUBLE,
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      });
      observePools(this.meter, pools);
    }

    protected init(): Instr.InstrumentationModuleDefinition[] {
      return moduleDefinitions(instr, {
        patchClient: (m) => this.patchClient(m),
        patchPool: (m) => this.patch(exportsOf<Patchable>(m), 'connect', (original) => wrapPoolConnect(original, { api, store, guard, pools })),
        unpatch: (m, method) => this.unpatch(m, method),
      });
    }

    private patchClient(module: unknown): unknown {
      // The base class's tracer changes when a provider is set; our lean tracer follows it.
      let sdkTracer = this.tracer;
      let ours = deps.lean ? deps.lean(sdkTracer) : sdkTracer;
      const tracer = () => {
        if (this.tracer !== sdkTracer) {
          sdkTracer = this.tracer;
          ours = deps.lean ? deps.lean(sdkTracer) : sdkTracer;
        }
        return ours;
      };
      const duration = () => this.duration;
      if (module) this.patch(exportsOf<Patchable>(module), 'query', (original) => wrapQuery(original, { api, core, store, guard, tracer, duration }));
      return module;
    }

    private patch(target: Patchable | undefined, method: string, wrapper: (original: Fn) => Fn): void {
      const proto = target?.prototype;
      if (!proto || typeof proto[method] !== 'function') return;
      if (instr.isWrapped(proto[method])) this._unwrap(proto, method);
      this._wrap(proto, method, wrapper as never);
    }

    private unpatch(module: unknown, method: string): unknown {
      const proto = module ? exportsOf<Patchable>(module).prototype : undefined;
      if (proto && instr.isWrapped(proto[method])) this._unwrap(proto, method);
      return module;
    }
  }

  return new PgTracer();
}
