// What the resource says about the service: OTEL_RESOURCE_ATTRIBUTES, the release, commit and
// environment, and which platforms' detectors are worth running.
import { firstOf, list, quote, str, type Warn } from './parsers.js';
import type { Config, Env } from './types.js';

/** CI and PaaS variables that carry the deployed commit, in the order they are trusted. */
export const COMMIT_VARIABLES = [
  'GITHUB_SHA',
  'CI_COMMIT_SHA',
  'HEROKU_SLUG_COMMIT',
  'SOURCE_VERSION',
  'VERCEL_GIT_COMMIT_SHA',
  'CIRCLE_SHA1',
  'BITBUCKET_COMMIT',
  'BUILDKITE_COMMIT',
  'TRAVIS_COMMIT',
  'DRONE_COMMIT_SHA',
  'CODEBUILD_RESOLVED_SOURCE_VERSION',
  'RENDER_GIT_COMMIT',
  'RAILWAY_GIT_COMMIT_SHA',
  'CF_PAGES_COMMIT_SHA',
  'KOYEB_GIT_SHA',
  'GIT_COMMIT',
];

const DETECTORS = ['env', 'host', 'os', 'process', 'serviceinstance', 'container', 'aws', 'gcp', 'azure', 'alibaba'];
const DEFAULT_DETECTORS = ['env', 'host', 'os', 'process', 'serviceinstance', 'container', 'aws', 'gcp', 'azure'];

/** `k1=v1,k2=v2` with percent-encoded values (W3C baggage octets), as the SDK spec defines it. */
export function parseResourceAttributes(raw: string | undefined, onBad: (why: string) => void): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  const bad: string[] = [];
  for (const part of raw.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!key || /\s/.test(key)) {
      bad.push(part.trim());
      continue;
    }
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      bad.push(part.trim());
    }
  }
  if (bad.length) onBad(`has malformed entries (${bad.slice(0, 3).map(quote).join(', ')}${bad.length > 3 ? `, … ${bad.length} in all` : ''})`);
  return out;
}

/** The service's name, attributes, release, commit and environment; the attributes win over the variables. */
export function readService(env: Env, warn: Warn): Pick<Config, 'serviceName' | 'resourceAttributes' | 'release' | 'commit' | 'environment'> {
  const attrs = parseResourceAttributes(str(env, 'OTEL_RESOURCE_ATTRIBUTES'), (why) =>
    warn('OTEL_RESOURCE_ATTRIBUTES', env.OTEL_RESOURCE_ATTRIBUTES ?? '', 'the well-formed pairs only', why),
  );
  const version = attrs['service.version'];
  const environment = attrs['deployment.environment.name'] ?? attrs['deployment.environment'];
  return {
    serviceName: str(env, 'OTEL_SERVICE_NAME'),
    resourceAttributes: attrs,
    release: version
      ? { value: version, source: 'OTEL_RESOURCE_ATTRIBUTES' }
      : firstOf(env, 'OTEL_MONITOR_RELEASE', 'SENTRY_RELEASE', ...COMMIT_VARIABLES),
    commit: firstOf(env, ...COMMIT_VARIABLES),
    environment: environment
      ? { value: environment, source: 'OTEL_RESOURCE_ATTRIBUTES' }
      : firstOf(env, 'OTEL_MONITOR_ENVIRONMENT', 'SENTRY_ENVIRONMENT', 'NODE_ENV'),
  };
}

/** OTEL_NODE_RESOURCE_DETECTORS, and the platforms present (their detectors probe the network or files otherwise). */
export function readPlatform(env: Env, warn: Warn): Pick<Config, 'resourceDetectors' | 'platform'> {
  const wanted = list(env, 'OTEL_NODE_RESOURCE_DETECTORS');
  let resourceDetectors = DEFAULT_DETECTORS;
  if (wanted) {
    if (wanted.includes('all')) resourceDetectors = DETECTORS;
    else if (wanted.includes('none')) resourceDetectors = [];
    else {
      const unknown = wanted.filter((d) => !DETECTORS.includes(d));
      if (unknown.length) warn('OTEL_NODE_RESOURCE_DETECTORS', unknown.join(','), 'the known detectors only', 'names unknown detectors');
      resourceDetectors = wanted.filter((d) => DETECTORS.includes(d));
    }
  }
  const present = (...names: string[]) => !!firstOf(env, ...names);
  return {
    resourceDetectors,
    platform: {
      aws: present('AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME', 'ECS_CONTAINER_METADATA_URI_V4', 'ECS_CONTAINER_METADATA_URI'),
      gcp: present('K_SERVICE', 'GOOGLE_CLOUD_PROJECT', 'GCE_METADATA_HOST', 'FUNCTION_TARGET', 'CLOUD_RUN_JOB'),
      azure: present('WEBSITE_SITE_NAME', 'FUNCTIONS_WORKER_RUNTIME', 'AKS_CLUSTER_NAME'),
      alibaba: present('ALIBABA_CLOUD_REGION_ID', 'FC_FUNCTION_NAME'),
      container: present('KUBERNETES_SERVICE_HOST', 'CONTAINER', 'container'),
    },
  };
}
