// instrumentation-koa 0.72 reads `fn.router` in its patched `Application.prototype.use` before Koa
// has validated the middleware, so `app.use(null)` throws "Cannot read properties of null (reading
// 'router')" instead of Koa's own TypeError, and `app.use({})` is wrapped into a function that Koa
// then accepts silently. Anything that is not a function goes straight to Koa's own `use`, which
// rejects it as it would without the preload. (Proposed upstream: docs/COMPATIBILITY.md.)
import type { Instrumentation } from '@opentelemetry/instrumentation';

type Use = (this: unknown, fn: unknown, ...rest: unknown[]) => unknown;
type KoaCtor = new (config: object) => Instrumentation;

interface KoaInstrumentationShape {
  _getKoaUsePatch(original: Use): Use;
}

/** Subclasses the upstream KoaInstrumentation so its `use` patch lets Koa validate first. */
export function guardKoaUse(Base: KoaCtor): KoaCtor {
  const proto = Base.prototype as Partial<KoaInstrumentationShape>;
  const patch = proto._getKoaUsePatch;
  // A future release without this method: nothing to guard, use it as it is.
  if (typeof patch !== 'function') return Base;
  return class GuardedKoaInstrumentation extends Base {
    _getKoaUsePatch(original: Use): Use {
      const patched = patch.call(this, original);
      return function use(this: unknown, fn: unknown, ...rest: unknown[]) {
        return typeof fn === 'function' ? patched.call(this, fn, ...rest) : original.call(this, fn, ...rest);
      };
    }
  };
}
