import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { CATALOGUE } from '../../src/instrumentation/catalogue.js';
import { OWN_TRACERS, ownTracerFor } from '../../src/instrumentation/own-tracers.js';
import { ROOT } from '../helpers/app.js';

// The one table of our own tracers: each takes over from a catalogue entry, and each is one
// variable away from the upstream instrumentation it replaces.
const config = (env: Record<string, string> = {}) => readConfig(env).config;
const paths = [ROOT];

describe('own tracers', () => {
  it('each names a catalogue entry and either subscribes at start or patches its module', () => {
    const names = new Set(CATALOGUE.map((e) => e.name));
    for (const t of OWN_TRACERS) {
      expect(names, t.name).toContain(t.name);
      expect(!!t.start !== !!t.patch, `${t.name}: exactly one of start and patch`).toBe(true);
    }
    expect(OWN_TRACERS.map((t) => t.name).sort()).toEqual(['express', 'fastify', 'http', 'pg', 'pino', 'undici']);
  });

  it('takes over where the app has a library that can be traced ours, by default', () => {
    // This repository's own devDependencies are the app here: Express 5, Fastify 5, pino 10, pg.
    for (const name of ['http', 'express', 'fastify', 'undici', 'pino', 'pg']) expect(ownTracerFor(name, paths, config()), name).toBeDefined();
    expect(ownTracerFor('koa', paths, config())).toBeUndefined();
  });

  it('gives each library back to upstream with its variable', () => {
    expect(ownTracerFor('http', paths, config({ OTEL_MONITOR_FAST_HTTP_SERVER: 'false' }))).toBeUndefined();
    expect(ownTracerFor('express', paths, config({ OTEL_MONITOR_EXPRESS_LAYERS: 'true' }))).toBeUndefined();
    // @fastify/otel is a devDependency here, so the hooks variable selects it.
    expect(ownTracerFor('fastify', paths, config({ OTEL_MONITOR_FASTIFY_HOOKS: 'true' }))).toBeUndefined();
    const upstream = config({ OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: 'pg,undici' });
    expect(ownTracerFor('pg', paths, upstream)).toBeUndefined();
    expect(ownTracerFor('undici', paths, upstream)).toBeUndefined();
  });

  it('does not take over a library the app does not have, or an old copy without the channel', () => {
    const nowhere = ['/nonexistent-app-dir'];
    for (const name of ['express', 'fastify', 'pino']) expect(ownTracerFor(name, nowhere, config()), name).toBeUndefined();
  });
});
