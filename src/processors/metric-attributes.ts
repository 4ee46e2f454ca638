// Unbounded attribute keys (full URLs, peers, user agents) out of every metric's dimensions: the
// attributes processor of the one view sdk.ts installs for all instruments.
//
// The SDK's own deny-list processor copies every recorded attribute set into a new object, key by
// key, even when none of its keys is denied, which is nearly always: our http.server.request.duration
// and instrumentation-pg's six pool-counter adds per query never carry one. This one hands the
// set back as it is when nothing is denied, as the SDK does for an instrument without a view, and
// copies only when it removes something. The SDK keeps the set it is given as the series' key
// either way, and never writes to it.
import type { Attributes } from '@opentelemetry/api';
import type { IAttributesProcessor } from '@opentelemetry/sdk-metrics';

export function denyMetricAttributes(keys: readonly string[]): IAttributesProcessor {
  const denied = new Set(keys);
  return {
    process(incoming: Attributes): Attributes {
      for (const key in incoming) {
        if (denied.has(key) && Object.hasOwn(incoming, key)) return without(incoming, denied);
      }
      return incoming;
    },
  };
}

function without(incoming: Attributes, denied: ReadonlySet<string>): Attributes {
  const kept: Attributes = {};
  for (const key in incoming) if (Object.hasOwn(incoming, key) && !denied.has(key)) kept[key] = incoming[key];
  return kept;
}
