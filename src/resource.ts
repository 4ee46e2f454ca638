// The resource every signal carries: who the service is, which release, where it runs.
// Order of precedence (documented in docs/CONFIGURATION.md):
//   service.name     OTEL_SERVICE_NAME > OTEL_RESOURCE_ATTRIBUTES > app package.json "name"
//   service.version  OTEL_RESOURCE_ATTRIBUTES > OTEL_MONITOR_RELEASE > SENTRY_RELEASE > CI commit vars
//                    > app package.json "version"
//   deployment.environment.name  OTEL_RESOURCE_ATTRIBUTES > OTEL_MONITOR_ENVIRONMENT > SENTRY_ENVIRONMENT > NODE_ENV
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type * as Resources from '@opentelemetry/resources';
import type { Config } from './config.js';
import { requireCjs } from './require.js';
import { log, describe } from './log.js';
import { ownVersion } from './version.js';

export interface ReleaseInfo {
  serviceName: string;
  release?: string;
  releaseSource: string;
  environment?: string;
  commit?: string;
}

interface AppPackage {
  name?: string;
  version?: string;
}

/** The nearest package.json above the app's entry script (or the working directory). */
export function findAppPackage(start = process.argv[1] ? dirname(resolve(process.argv[1])) : process.cwd()): AppPackage {
  let dir = start;
  for (let i = 0; i < 32; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as AppPackage;
      // node_modules/x/package.json belongs to a dependency, not the app.
      if (!dir.includes(`${'/'}node_modules${'/'}`)) return pkg;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return {};
}

export function resolveRelease(config: Config, pkg: AppPackage = findAppPackage()): ReleaseInfo {
  const serviceName =
    config.serviceName ?? config.resourceAttributes['service.name'] ?? (pkg.name ? pkg.name : undefined) ?? 'unknown_service:node';
  const fromPkg = pkg.version ? { value: pkg.version, source: 'package.json' } : undefined;
  const release = config.release ?? fromPkg;
  return {
    serviceName,
    release: release?.value,
    releaseSource: release?.source ?? 'none',
    environment: config.environment?.value,
    commit: config.commit?.value,
  };
}

export function buildResource(config: Config, info: ReleaseInfo): Resources.Resource {
  const R = requireCjs('@opentelemetry/resources') as typeof Resources;
  const attrs: Record<string, string> = {
    ...config.resourceAttributes,
    'service.name': info.serviceName,
    'service.instance.id': config.resourceAttributes['service.instance.id'] ?? randomUUID(),
    'telemetry.distro.name': '@org/otel-monitor',
    'telemetry.distro.version': DISTRO_VERSION,
  };
  if (info.release) attrs['service.version'] = info.release;
  if (info.environment) attrs['deployment.environment.name'] = info.environment;
  delete attrs['deployment.environment'];
  if (info.commit) attrs['vcs.ref.head.revision'] = info.commit;

  let resource = R.resourceFromAttributes(attrs);
  const detectors: Resources.ResourceDetector[] = [];
  const want = new Set(config.resourceDetectors);
  if (want.has('host')) detectors.push(R.hostDetector);
  if (want.has('os')) detectors.push(R.osDetector);
  if (want.has('process')) detectors.push(R.processDetector);
  // Cloud detectors probe metadata addresses over the network; only run them where their platform is.
  const cloud: Array<[string, boolean, string, string[]]> = [
    ['container', config.platform.container, '@opentelemetry/resource-detector-container', ['containerDetector']],
    ['aws', config.platform.aws, '@opentelemetry/resource-detector-aws', ['awsLambdaDetector', 'awsEcsDetector', 'awsEksDetector', 'awsBeanstalkDetector', 'awsEc2Detector']],
    ['gcp', config.platform.gcp, '@opentelemetry/resource-detector-gcp', ['gcpDetector']],
    ['azure', config.platform.azure, '@opentelemetry/resource-detector-azure', ['azureAppServiceDetector', 'azureFunctionsDetector', 'azureAksDetector', 'azureContainerAppsDetector']],
    ['alibaba', config.platform.alibaba, '@opentelemetry/resource-detector-alibaba-cloud', ['alibabaCloudEcsDetector']],
  ];
  for (const [name, present, pkg, exports] of cloud) {
    if (!want.has(name) || !present) continue;
    try {
      const mod = requireCjs(pkg) as Record<string, Resources.ResourceDetector>;
      for (const e of exports) if (mod[e]) detectors.push(mod[e]);
    } catch (err) {
      // The GCP detector is an optional peer (it brings an HTTP client stack of its own, ~15 MB).
      const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && describe(err).includes(pkg);
      log.warn(missing ? `resource detector ${name} is off: run \`npm install ${pkg}\` to add its attributes` : `resource detector ${name} could not be loaded: ${describe(err)}`);
    }
  }
  if (detectors.length) {
    // Detected attributes never override what the user or the release logic set.
    resource = R.detectResources({ detectors }).merge(resource);
  }
  return resource;
}

export const DISTRO_VERSION = ownVersion() ?? '0.0.0';
