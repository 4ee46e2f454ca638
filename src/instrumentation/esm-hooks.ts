// ESM modules can only be patched through loader hooks. Prefer the in-thread synchronous
// `module.registerHooks` (no worker thread, no DEP0205 warning on Node 26); fall back to the
// off-thread `module.register` on Node versions whose registerHooks import-in-the-middle can't use.
import * as nodeModule from 'node:module';
import { log, describe } from '../log.js';
import { requireCjs } from '../require.js';

export type HookMode = 'registerHooks' | 'register' | 'none';

/** Registers import-in-the-middle for exactly these module specifiers (plus their node: forms). */
export function registerEsmHooks(modules: string[]): HookMode {
  if (modules.length === 0) return 'none';
  const include = [...new Set(modules.flatMap((m) => (nodeModule.isBuiltin(m) ? [m, `node:${m}`] : [m])))];
  try {
    const { supportsSyncHooks } = requireCjs('import-in-the-middle/supports-sync-hooks.mjs') as {
      supportsSyncHooks: () => boolean;
    };
    // Code run with -e/-p requires through import-in-the-middle's synchronous hook with no parent,
    // which (iitm 3.6, Node 24) makes `node --require …/register -e` die with ENOENT 'module': the
    // off-thread hook is used there instead.
    const evaluating = (process as { _eval?: string })._eval !== undefined;
    if (typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function' && supportsSyncHooks() && !evaluating) {
      // require() of this ESM file keeps the preload synchronous, which the CJS --require entry needs.
      const { register } = requireCjs('import-in-the-middle/register-hooks.mjs') as {
        register: (o: { include: string[] }) => void;
      };
      register({ include });
      return 'registerHooks';
    }
    nodeModule.register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include } });
    return 'register';
  } catch (err) {
    log.warn(`ESM loader hooks could not be registered, so ESM imports are not instrumented: ${describe(err)}`);
    return 'none';
  }
}
