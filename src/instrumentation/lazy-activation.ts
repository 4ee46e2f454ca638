// Loads an instrumentation's package only when the app first requires or imports a module it
// patches. One synchronous resolve hook (module.registerHooks, which sees both require() and
// import) activates the instrumentation before Node loads the module, so the module is patched as
// if the instrumentation had been there from the start. Once every pending instrumentation is
// active the hook removes itself.
import * as nodeModule from 'node:module';

type ResolveHook = (specifier: string, context: unknown, next: (s: string, c: unknown) => unknown) => unknown;
type RegisterHooks = (hooks: { resolve: ResolveHook }) => { deregister?: () => void };

/** The package a bare specifier names: `express/lib/x` → `express`, `@a/b/c` → `@a/b`. */
export function packageOf(specifier: string): string | undefined {
  const c = specifier.charCodeAt(0);
  if (c === 46 /* . */ || c === 47 /* / */ || specifier.startsWith('node:') || specifier.startsWith('file:')) return undefined;
  const parts = specifier.split('/', 2);
  return c === 64 /* @ */ ? (parts.length === 2 ? `${parts[0]}/${parts[1]}` : undefined) : parts[0];
}

export function canActivateLazily(): boolean {
  return typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function';
}

/** `pending` maps a package name to the activation of the instrumentation that patches it. */
export function armLazyActivation(pending: Map<string, () => void>): void {
  if (pending.size === 0) return;
  const registerHooks = (nodeModule as unknown as { registerHooks: RegisterHooks }).registerHooks;
  let handle: { deregister?: () => void } | undefined;
  // eslint-disable-next-line prefer-const -- declared first so the hook never meets it uninitialised
  handle = registerHooks({
    resolve(specifier, context, next) {
      if (pending.size !== 0) {
        const name = packageOf(specifier);
        const activate = name === undefined ? undefined : pending.get(name);
        if (activate) {
          activate();
          if (pending.size === 0) handle?.deregister?.();
        }
      }
      return next(specifier, context);
    },
  });
}
