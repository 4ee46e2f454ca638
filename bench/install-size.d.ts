// Types for bench/install-size.js, which test/integration/package-install.test.ts shares.
export interface InstallTree {
  files: number;
  /** Sum of file sizes. */
  bytes: number;
  /** Allocated blocks, in bytes. */
  diskBytes: number;
  /** Package name -> every directory (under node_modules) it is installed in. */
  packages: Map<string, string[]>;
}
export const TARGET: { bytes: number; files: number };
export function installIntoEmptyApp(specs: string[], later?: string[]): string;
export function packInto(dir: string, opts?: { build?: boolean }): string;
export function measureTree(nodeModules: string): InstallTree;
export function lsVersions(appDir: string): Map<string, Set<string>>;
