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
