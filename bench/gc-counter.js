// Survivors per scavenge from a server's `--trace-gc-nvp` output (bench/run.js --gc, bench/ab-env.js --gc).

/** Per scavenge, from `--trace-gc-nvp` lines: what survived it and what the young generation holds. */
export function gcCounter() {
  const c = { scavenges: 0, survived: 0, promoted: 0, allocated: 0, capacity: 0, heapAfter: NaN, rest: '' };
  const field = (line, k) => Number((line.match(new RegExp(`\\b${k}=(\\d+)`)) ?? [])[1] ?? NaN);
  return {
    reset() {
      Object.assign(c, { scavenges: 0, survived: 0, promoted: 0, allocated: 0 });
    },
    onStdout(d) {
      const lines = (c.rest + d).split('\n');
      c.rest = lines.pop();
      for (const line of lines) {
        if (!line.includes('gc=')) continue;
        c.allocated += field(line, 'allocated') || 0;
        c.capacity = Math.max(c.capacity, field(line, 'new_space_capacity') || 0);
        if (!line.includes('gc=s ')) continue;
        c.scavenges++;
        c.survived += field(line, 'new_space_survived');
        c.promoted += field(line, 'promoted');
        // After a scavenge the heap's objects are the old generation plus the survivors.
        c.heapAfter = field(line, 'end_object_size') - field(line, 'new_space_survived');
      }
    },
    counts: () => ({ ...c }),
  };
}
