// One build at a time (tests, demo and a developer may all ask for the same one): a lock
// directory, released when the process exits. A lock older than an hour is from a build that
// died, so it is taken over. Shared by collector/build.js and deploy/compose-cli/build.js.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export async function acquireBuildLock(lock, log) {
  mkdirSync(dirname(lock), { recursive: true });
  for (let waited = 0; ; waited++) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      if (Date.now() - statSync(lock).mtimeMs > 3_600_000) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (waited % 15 === 0) log('another build is running, waiting for it...');
      await sleep(2000);
    }
  }
  process.on('exit', () => rmSync(lock, { recursive: true, force: true }));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
}
