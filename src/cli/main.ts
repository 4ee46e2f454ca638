#!/usr/bin/env node
// The `otel-monitor` bin. All logic lives in run.ts; this only binds it to the real process.
import { processIo } from './shared/output.js';
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), processIo);
