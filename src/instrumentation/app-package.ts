// The version of a package as the app would load it: resolved from the app's own directories (the
// copy it will really require), not from ours. Our channel tracers use it to decide whether the
// app's copy publishes the channel they subscribe to.
import { createRequire } from 'node:module';
import { requireFromApp } from '../require.js';

export interface AppPackageVersion {
  major: number;
  minor: number;
  /** Where its package.json is: what resolves the package's own dependencies (Express's router). */
  packageJson: string;
}

/**
 * The version of `name` resolved from the app's `paths`, or, with `from` (a package.json path), as
 * that package would resolve it; undefined when it does not resolve.
 */
export function appPackageVersion(name: string, paths: string[], from?: string): AppPackageVersion | undefined {
  try {
    const packageJson = from ? createRequire(from).resolve(`${name}/package.json`) : requireFromApp(paths).resolve(`${name}/package.json`, { paths });
    const version = (createRequire(packageJson)('./package.json') as { version?: string }).version ?? '0';
    const [major = 0, minor = 0] = version.split('.').map(Number);
    return { major, minor, packageJson };
  } catch {
    return undefined;
  }
}

/** Whether `v` is at least major.minor. */
export function atLeast(v: AppPackageVersion | undefined, major: number, minor = 0): boolean {
  return !!v && (v.major > major || (v.major === major && v.minor >= minor));
}
