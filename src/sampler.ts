// The sampler OTEL_TRACES_SAMPLER names (config/sampler.ts reads it), built from sdk-trace's samplers.
import type * as Trace from '@opentelemetry/sdk-trace';
import type { Config } from './config.js';

export function createSampler(trace: typeof Trace, c: Config['sampler']): Trace.Sampler {
  const ratio = new trace.TraceIdRatioBasedSampler(c.ratio);
  switch (c.name) {
    case 'always_on':
      return new trace.AlwaysOnSampler();
    case 'always_off':
      return new trace.AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new trace.ParentBasedSampler({ root: new trace.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new trace.ParentBasedSampler({ root: ratio });
    default:
      return new trace.ParentBasedSampler({ root: new trace.AlwaysOnSampler() });
  }
}

/**
 * True when the sampler samples every span whose parent is absent or sampled, with the parent's
 * trace state and no attributes (ParentBased with AlwaysOn for roots and sampled parents): the lean
 * tracer then decides those spans itself instead of calling shouldSample on every span.
 */
export function samplesUnderSampledParents(c: Config['sampler']): boolean {
  return c.name === 'parentbased_always_on';
}
