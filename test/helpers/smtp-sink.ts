// A real SMTP server for the alert-delivery test: Python's aiosmtpd (PyPI), installed on first use
// into a venv under .cache/ (no system packages touched; .ci/run prepares the same venv).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './app.js';
import { freePort, spawnTracked, waitFor, type Tracked } from './process.js';

export const AIOSMTPD = 'aiosmtpd==1.4.6';
const VENV = join(ROOT, '.cache', 'smtp-venv');
const PYTHON = join(VENV, 'bin', 'python');

export interface Mail {
  mail_from: string;
  rcpt_tos: string[];
  from: string;
  to: string;
  subject: string;
  text: string | null;
  html: boolean;
}

export interface SmtpSink {
  /** host:port for ALERTMANAGER_SMTP_SMARTHOST. */
  smarthost: string;
  mails(): Mail[];
  proc: Tracked;
}

/** Creates .cache/smtp-venv with aiosmtpd unless it is there; throws with pip's output if impossible. */
export function ensureAiosmtpd(): void {
  const ok = () => existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0;
  if (ok()) return;
  for (const args of [['python3', '-m', 'venv', VENV], [join(VENV, 'bin', 'pip'), 'install', '-q', AIOSMTPD]]) {
    process.stderr.write(`[smtp-sink] ${args.join(' ')}\n`);
    const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 5 * 60_000 });
    if (r.status !== 0) throw new Error(`\`${args.join(' ')}\` failed (${r.status ?? r.error}): ${r.stderr}`);
  }
  if (!ok()) throw new Error(`aiosmtpd is not importable from ${PYTHON}`);
}

export async function startSmtpSink(): Promise<SmtpSink> {
  ensureAiosmtpd();
  const port = await freePort();
  const proc = spawnTracked(PYTHON, [join(ROOT, 'test', 'helpers', 'smtp-sink.py'), String(port)]);
  const lines = () => proc.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  await Promise.race([
    waitFor(() => lines().some((l) => l.listening === port), { timeoutMs: 30_000, what: 'the SMTP sink' }),
    proc.exited.then((c) => {
      throw new Error(`SMTP sink exited (${c}):\n${proc.output()}`);
    }),
  ]);
  return { smarthost: `127.0.0.1:${port}`, mails: () => lines().filter((l) => 'subject' in l) as unknown as Mail[], proc };
}
