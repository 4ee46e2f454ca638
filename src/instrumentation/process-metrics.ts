// Metrics the host-metrics package lacks: open file descriptors, load average and disk usage of the
// app's working volume. Observed only at collection time, so they cost nothing between exports.
import { readdir, readFile, statfs } from 'node:fs/promises';
import { loadavg } from 'node:os';
import type { Meter } from '@opentelemetry/api';

/** The mount point holding `dir`: the longest mount path that is a prefix of it. */
async function mountPointOf(dir: string): Promise<string> {
  try {
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '');
    return mounts
      .filter((m) => m && (dir === m || dir.startsWith(m.endsWith('/') ? m : `${m}/`)))
      .sort((a, b) => b.length - a.length)[0] ?? '/';
  } catch {
    return '/';
  }
}

export function registerProcessMetrics(meter: Meter, workDir = process.cwd()): void {
  const fds = meter.createObservableUpDownCounter('process.open_file_descriptor.count', {
    description: 'Number of file descriptors in use by the process.',
    unit: '{file_descriptor}',
  });
  fds.addCallback(async (result) => {
    try {
      result.observe((await readdir('/proc/self/fd')).length);
    } catch {
      // not Linux (no procfs): the series is simply absent
    }
  });

  const load = meter.createObservableGauge('system.cpu.load_average.1m', {
    description: 'Average number of runnable threads over the last minute.',
    unit: '{thread}',
  });
  load.addCallback((result) => result.observe(loadavg()[0] ?? 0));

  const mount = mountPointOf(workDir);
  const usage = meter.createObservableUpDownCounter('system.filesystem.usage', {
    description: 'Bytes used and free on the volume holding the working directory.',
    unit: 'By',
  });
  const utilization = meter.createObservableGauge('system.filesystem.utilization', {
    description: 'Fraction of the working volume in use.',
    unit: '1',
  });
  meter.addBatchObservableCallback(
    async (result) => {
      try {
        const s = await statfs(workDir);
        const mountpoint = await mount;
        const free = s.bavail * s.bsize;
        const used = (s.blocks - s.bfree) * s.bsize;
        result.observe(usage, used, { 'system.filesystem.state': 'used', 'system.filesystem.mountpoint': mountpoint });
        result.observe(usage, free, { 'system.filesystem.state': 'free', 'system.filesystem.mountpoint': mountpoint });
        if (used + free > 0) result.observe(utilization, used / (used + free), { 'system.filesystem.mountpoint': mountpoint });
      } catch {
        // statfs unsupported here: leave the series out rather than report zeros
      }
    },
    [usage, utilization],
  );
}
