import { describe, expect, it } from 'vitest';
import { CATALOGUE, selectInstrumentations } from '../../src/instrumentation/catalogue.js';

const names = (enabled: string[] | undefined, disabled: string[] = []) => selectInstrumentations(enabled, disabled).selected.map((e) => e.name);

describe('selectInstrumentations', () => {
  it('selects the defaults without lists: http and express on, fs, dns, net and router off', () => {
    const selected = names(undefined);
    expect(selected).toEqual(CATALOGUE.filter((e) => e.defaultOn).map((e) => e.name));
    expect(selected).toEqual(expect.arrayContaining(['http', 'express', 'pg', 'pino']));
    for (const off of ['fs', 'dns', 'net', 'router', 'aws-lambda']) expect(selected).not.toContain(off);
  });

  it('replaces the defaults with the enabled list, off-by-default ones included, in catalogue order', () => {
    expect(names(['pg', 'fs', 'http'])).toEqual(['http', 'pg', 'fs']);
  });

  it('takes away the disabled ones, from the defaults or from the enabled list', () => {
    expect(names(undefined, ['express'])).not.toContain('express');
    expect(names(undefined, ['express'])).toHaveLength(names(undefined).length - 1);
    expect(names(['http', 'pg'], ['pg'])).toEqual(['http']);
  });

  it('accepts full package names and reports unknown names from either list', () => {
    expect(names(['@opentelemetry/instrumentation-http'])).toEqual(['http']);
    const { selected, unknown } = selectInstrumentations(['http', 'nope'], ['@opentelemetry/instrumentation-zzz', 'pg']);
    expect(selected.map((e) => e.name)).toEqual(['http']);
    expect(unknown).toEqual(['nope', 'zzz']);
  });

  it('selects nothing for an empty enabled list', () => {
    expect(names([])).toEqual([]);
  });
});
