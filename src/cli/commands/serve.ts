import { providerOf } from '../../data/provider.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { prepareDemo, sampleQuery } from '../../domain/demo/demo.js';
import { startApp } from '../../server/app.js';
import { dirname } from 'node:path';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { cliConfig } from '../context.js';

export const command: Command = defineCommand({
  help: [
    'Usage: memer serve [--port N] [--host H] [--demo]',
    '',
    'Serves GraphQL at http://HOST:PORT/graphql, /livez (up), /readyz (ready to serve; 503 with the reason while',
    'starting) and /metrics (Prometheus); the URL is printed once ready. The database named by DATABASE_URL',
    '(default file:./data/memer.db) is migrated first. On the embedded SQLite default, the first start creates an',
    'admin API key named "development" and prints it once (only while the database has never had a key).',
    '',
    'SIGTERM or SIGINT stops it gracefully: /readyz turns 503, the listener closes, requests in flight finish (up to',
    'MEMER_SHUTDOWN_MS, default 10 s), then the pools close; exit 0. A second signal exits at once (1). During the',
    'start the stop waits for the current phase, except the demo build, which a signal interrupts.',
    '',
    'Options:',
    '  --port N   listen port (default PORT or 4000; 0 picks a free one)',
    '  --host H   listen address (default HOST or 127.0.0.1)',
    '  --demo     on an empty database, first create a demo platform: simulate, import, train, activate, and upload a',
    '             few brand-new posts (npm start does this); then print a query that recommends them',
  ].join('\n'),
  options: { port: { type: 'string' }, host: { type: 'string' }, demo: { type: 'boolean' } },
  async run({ values }) {
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new CliError(`--port must be 0..65535, got ${values.port}`, ExitCode.USAGE);
    const config = cliConfig({ ...(port !== undefined ? { port } : {}), ...(values.host ? { host: values.host as string } : {}) });
    const logger = createLogger(config.logLevel);
    // From the first moment, so a signal during the start is a stop too (the default would end the process mid-phase).
    const stop = stopSignals(logger);
    const app = await startApp(config, logger, { warmExtractors: true, ...(values.demo ? { hold: { demo: 'building the demo platform' } } : {}) });
    if (providerOf(config.databaseUrl) === 'sqlite' && (await app.services.keys.count()) === 0) {
      const { key } = await app.services.keys.create(['admin'], 'development');
      console.log(`Created a development API key (admin scope). It is shown only once:\n\n  ${key}\n`);
    }
    if (values.demo && !stop.signal) {
      // The demo takes a minute or two: a signal meanwhile ends the process at once (no request was served yet).
      stop.onSignal = () => process.exit(ExitCode.OK);
      const demo = await prepareDemo(app.services, dirname(config.modelDir), logger, (line) => console.log(line));
      stop.onSignal = null;
      await app.services.refresh();
      await app.services.index.warm();
      app.readiness.release('demo');
      if (demo.query) {
        console.log(`\nBrand-new posts (no views yet, embedded by MEMER at upload): ${demo.newPosts.join(', ') || '(none)'}`);
        console.log(`Recommendations for user ${demo.query.userId}, brand-new posts included:\n\n  ${sampleQuery(app.url, demo.query)}\n`);
      }
    }
    // The URL only once /readyz would say 200 (a live check can still fail: the database, a model that cannot load).
    for (let waited = 0; !stop.signal; waited++) {
      const ready = await app.readiness.check();
      if (ready.ready) {
        console.log(`memer is serving GraphQL at ${app.url}  (database: ${config.databaseUrl.split('?')[0].replace(/\/\/[^@]*@/, '//')})`);
        break;
      }
      if (waited % 10 === 0) logger.warn('not ready yet', { reason: ready.reason });
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), stop.received]);
    }
    const signal = await stop.received;
    logger.info('shutting down', { signal, timeoutMs: config.shutdownMs });
    // A stop that hangs (a pool that never closes) must not keep the process from exiting.
    setTimeout(() => {
      logger.error('the graceful stop did not finish in time; exiting');
      process.exit(ExitCode.FAILURE);
    }, config.shutdownMs + 10_000).unref();
    const result = await app.stop();
    logger.info('stopped', { ...result });
    return ExitCode.OK;
  },
});

interface StopSignals {
  /** The first SIGTERM / SIGINT received, or null. */
  signal: NodeJS.Signals | null;
  received: Promise<NodeJS.Signals>;
  /** Called on the first signal instead of the usual graceful path (the demo build). */
  onSignal: (() => void) | null;
}

/** Listens for SIGTERM and SIGINT: the first starts the graceful stop, a second one exits at once. */
function stopSignals(logger: Logger): StopSignals {
  let resolve!: (s: NodeJS.Signals) => void;
  const state: StopSignals = { signal: null, received: new Promise((r) => (resolve = r)), onSignal: null };
  const on = (signal: NodeJS.Signals) => {
    if (state.signal) {
      logger.warn('second signal: exiting without waiting', { signal });
      process.exit(ExitCode.FAILURE);
    }
    state.signal = signal;
    resolve(signal);
    state.onSignal?.();
  };
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return state;
}
