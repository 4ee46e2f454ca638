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
    ['src/cli/shared/output.ts', "import { startSdk } from '../../sdk.js';"],
    ['src/cli/shared/output.ts', "import { loadInstrumentations } from '../../instrumentation/load-instrumentations.js';"],
    ['src/cli/shared/prometheus.ts', "import type { Redactor } from '../../processors/redaction.js';"],
    ['src/cli/summary.ts', "import { startSdk } from '../sdk.js';"],
    ['src/cli/monitor/last-seen.ts', "import { rules } from '../rules/command.js';"],
    ['src/cli/monitor/latest-run.ts', "import { summary } from '../summary.js';"],
    ['src/cli/releases/compare.ts', "import { doctor } from '../doctor/command.js';"],
    ['src/cli/rules/command.ts', "import { deliver } from '../monitor/common.js';"],
    ['src/cli/releases/a-new-file.ts', "import { run } from '../run.js';"],
    ['src/cli/summary.ts', "import { releasesList } from './releases/list.js';"],
    ['src/cli/health.ts', "import { summary } from './summary.js';"],
    ['src/cli/shared/promql.ts', "import { taskRules } from '../rules/task-rules.js';"],
    ['src/cli/monitor/send-alerts.ts', "import { startSentry } from '../../sentry/start.js';"],
    ['src/api/tasks.ts', "import { run } from '../cli/run.js';"],
    ['src/api/user.ts', "import { startSdk } from '../sdk.js';"],
    ['src/cli/doctor/command.ts', "import { EncodingSpanProcessor } from '../../exporters/encoding-span-processor.js';"],
    ['src/cli/doctor/command.ts', "import { loadInstrumentations } from '../../instrumentation/load-instrumentations.js';"],
  ])('%s may not: %s', async (file, code) => {
    expect(await restricted(file, code)).toHaveLength(1);
  });

  it.each([
    ['src/cli/monitor/last-seen.ts', "import { ATTR_TASK_NAME } from '../../semconv.js';\nimport { parseArgs } from '../shared/args.js';"],
    ['src/cli/monitor/latest-run.ts', "import { deliver } from './common.js';"],
    ['src/cli/run.ts', "import { rules } from './rules/command.js';\nimport { summary } from './summary.js';"],
    ['src/cli/rules/command.ts', "import { ALERT_TASK_LATE } from '../shared/alert-names.js';\nimport { taskRules } from './task-rules.js';"],
    ['src/cli/releases/list.ts', "import { prometheusOption } from '../shared/connection-options.js';"],
    ['src/cli/summary.ts', "import { table } from './shared/output.js';\nimport { LABEL_TASK_STATUS } from '../semconv.js';"],
    ['src/cli/shared/promql.ts', "import { ROLE_SEPARATOR } from '../../semconv.js';\nimport { UsageError } from './errors.js';"],
    ['src/api/index.ts', "import { flush } from '../lifecycle.js';"],
    ['src/cli/doctor/command.ts', "import { readConfig } from '../../config.js';\nimport { CATALOGUE } from '../../instrumentation/catalogue.js';"],
    ['src/sdk.ts', "import { loadInstrumentations } from './instrumentation/load-instrumentations.js';"],
  ])('%s may: %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});
