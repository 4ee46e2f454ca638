import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/app.js';

// The folder boundaries in eslint.config.js, checked against code that crosses them: a boundary
// whose pattern never matches would let `npm run lint` pass forever.
const eslint = new ESLint({ cwd: ROOT });

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('folder boundaries (no-restricted-imports)', () => {
  it.each([
    ['src/cli/output.ts', "import { startSdk } from '../sdk.js';"],
    ['src/cli/output.ts', "import { loadInstrumentations } from '../instrumentation/load-instrumentations.js';"],
    ['src/cli/prometheus.ts', "import type { Redactor } from '../processors/redaction.js';"],
    ['src/cli/monitor-last-seen.ts', "import { rules } from './rules.js';"],
    ['src/cli/monitor-latest-run.ts', "import { lastSeen } from './monitor-last-seen.js';"],
    ['src/cli/releases-compare.ts', "import { releasesList } from './releases-list.js';"],
    ['src/cli/rules.ts', "import { latestRun } from './monitor-latest-run.js';"],
    ['src/cli/releases-list.ts', "import { releasesCompare } from './releases-compare.js';"],
    ['src/cli/alerts.ts', "import { startSentry } from '../sentry/start.js';"],
    ['src/api/tasks.ts', "import { run } from '../cli/run.js';"],
    ['src/api/user.ts', "import { startSdk } from '../sdk.js';"],
    ['src/cli/doctor.ts', "import { EncodingSpanProcessor } from '../exporters/encoding-span-processor.js';"],
    ['src/cli/doctor.ts', "import { loadInstrumentations } from '../instrumentation/load-instrumentations.js';"],
  ])('%s may not: %s', async (file, code) => {
    expect(await restricted(file, code)).toHaveLength(1);
  });

  it.each([
    ['src/cli/monitor-last-seen.ts', "import { ATTR_TASK_NAME } from '../semconv.js';\nimport { parseArgs } from './args.js';"],
    ['src/cli/run.ts', "import { rules } from './rules.js';"],
    ['src/cli/rules.ts', "import { ALERT_TASK_LATE } from './alert-names.js';"],
    ['src/cli/releases-list.ts', "import { prometheusFrom } from './connection-options.js';"],
    ['src/api/index.ts', "import { flush } from '../lifecycle.js';"],
    ['src/cli/doctor.ts', "import { readConfig } from '../config.js';\nimport { CATALOGUE } from '../instrumentation/catalogue.js';"],
    ['src/sdk.ts', "import { loadInstrumentations } from './instrumentation/load-instrumentations.js';"],
  ])('%s may: %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});
