// OTEL_TRACES_SAMPLER and its ratio.
import { oneOf, str, type Warn } from './parsers.js';
import type { Config, Env, SamplerName } from './types.js';

const SAMPLERS: SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export function readSampler(env: Env, warn: Warn): Config['sampler'] {
  const name = oneOf(env, 'OTEL_TRACES_SAMPLER', SAMPLERS, 'parentbased_always_on', warn);
  let ratio = 1;
  const ratioRaw = str(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (ratioRaw !== undefined && name.endsWith('traceidratio')) {
    const r = Number(ratioRaw);
    if (Number.isFinite(r) && r >= 0 && r <= 1) ratio = r;
    else warn('OTEL_TRACES_SAMPLER_ARG', ratioRaw, '1', 'is not a number between 0 and 1');
  }
  return { name, ratio };
}
