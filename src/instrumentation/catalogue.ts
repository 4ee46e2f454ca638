// The instrumentations this distribution knows, the modules each one patches, and whether it is on
// by default. Names are the short forms that OTEL_NODE_ENABLED_INSTRUMENTATIONS and
// OTEL_NODE_DISABLED_INSTRUMENTATIONS use upstream (the package name without
// "@opentelemetry/instrumentation-").

export interface CatalogueEntry {
  name: string;
  pkg: string;
  exportName: string;
  /** Module specifiers the instrumentation patches; empty means it hooks a runtime channel instead. */
  modules: string[];
  defaultOn: boolean;
}

const entry = (name: string, exportName: string, modules: string[], defaultOn = true, pkg?: string): CatalogueEntry => ({
  name,
  pkg: pkg ?? `@opentelemetry/instrumentation-${name}`,
  exportName,
  modules,
  defaultOn,
});

export const CATALOGUE: readonly CatalogueEntry[] = [
  entry('http', 'HttpInstrumentation', ['http', 'https']),
  entry('undici', 'UndiciInstrumentation', []),
  entry('express', 'ExpressInstrumentation', ['express']),
  entry('fastify', 'FastifyOtelInstrumentation', ['fastify'], true, '@fastify/otel'),
  entry('koa', 'KoaInstrumentation', ['koa']),
  entry('hapi', 'HapiInstrumentation', ['@hapi/hapi']),
  entry('restify', 'RestifyInstrumentation', ['restify']),
  entry('connect', 'ConnectInstrumentation', ['connect']),
  entry('nestjs-core', 'NestInstrumentation', ['@nestjs/core']),
  entry('graphql', 'GraphQLInstrumentation', ['graphql']),
  entry('grpc', 'GrpcInstrumentation', ['@grpc/grpc-js']),
  entry('socket.io', 'SocketIoInstrumentation', ['socket.io']),
  entry('pg', 'PgInstrumentation', ['pg', 'pg-pool']),
  entry('mysql', 'MySQLInstrumentation', ['mysql']),
  entry('mysql2', 'MySQL2Instrumentation', ['mysql2']),
  entry('tedious', 'TediousInstrumentation', ['tedious']),
  entry('oracledb', 'OracleInstrumentation', ['oracledb']),
  entry('mongodb', 'MongoDBInstrumentation', ['mongodb']),
  entry('mongoose', 'MongooseInstrumentation', ['mongoose']),
  entry('redis', 'RedisInstrumentation', ['redis', '@redis/client', '@node-redis/client']),
  entry('ioredis', 'IORedisInstrumentation', ['ioredis']),
  entry('memcached', 'MemcachedInstrumentation', ['memcached']),
  entry('cassandra-driver', 'CassandraDriverInstrumentation', ['cassandra-driver']),
  entry('knex', 'KnexInstrumentation', ['knex']),
  entry('generic-pool', 'GenericPoolInstrumentation', ['generic-pool']),
  entry('dataloader', 'DataloaderInstrumentation', ['dataloader']),
  entry('lru-memoizer', 'LruMemoizerInstrumentation', ['lru-memoizer']),
  entry('amqplib', 'AmqplibInstrumentation', ['amqplib']),
  entry('kafkajs', 'KafkaJsInstrumentation', ['kafkajs']),
  entry('aws-sdk', 'AwsInstrumentation', [
    '@aws-sdk/middleware-stack',
    '@smithy/middleware-stack',
    '@smithy/core',
    '@aws-sdk/smithy-client',
    '@smithy/smithy-client',
  ]),
  entry('openai', 'OpenAIInstrumentation', ['openai']),
  entry('pino', 'PinoInstrumentation', ['pino']),
  entry('winston', 'WinstonInstrumentation', ['winston']),
  entry('bunyan', 'BunyanInstrumentation', ['bunyan']),
  // Off by default: fs, dns and net produce a span for nearly every syscall-level operation; router
  // duplicates express 5's own spans (express 5 routes through the "router" package); aws-lambda and
  // cucumber only matter in their own runtimes and are opted into by name.
  entry('fs', 'FsInstrumentation', ['fs', 'fs/promises'], false),
  entry('dns', 'DnsInstrumentation', ['dns', 'dns/promises'], false),
  entry('net', 'NetInstrumentation', ['net'], false),
  entry('router', 'RouterInstrumentation', ['router'], false),
  entry('aws-lambda', 'AwsLambdaInstrumentation', [], false),
  entry('cucumber', 'CucumberInstrumentation', ['@cucumber/cucumber'], false),
];

export interface Selection {
  selected: CatalogueEntry[];
  unknown: string[];
}

/** Applies the enable/disable lists (upstream semantics: the enabled list replaces the defaults). */
export function selectInstrumentations(enabled: string[] | undefined, disabled: string[]): Selection {
  const normalise = (n: string) => n.replace(/^@opentelemetry\/instrumentation-/, '');
  const known = new Set(CATALOGUE.map((e) => e.name));
  const en = enabled?.map(normalise);
  const dis = new Set(disabled.map(normalise));
  const unknown = [...(en ?? []), ...dis].filter((n) => !known.has(n));
  const selected = CATALOGUE.filter((e) => (en ? en.includes(e.name) : e.defaultOn) && !dis.has(e.name));
  return { selected, unknown };
}
