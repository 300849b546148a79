/**
 * The package entry: a Tributary server inside the calling process, for test suites.
 *
 *   import { startServer } from 'tributary';
 *   const server = await startServer();          // http://127.0.0.1:<free port>, fresh data dir
 *   new KinesisClient({ endpoint: server.url, ... });
 *   await server.close();                        // nothing left running, data dir removed
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startServer as startTributary } from './server/index.js';
import { configFromValues, defaultConfig, type ServeConfig } from './settings/index.js';

export type { ServeConfig } from './settings/index.js';

/**
 * Any `tributary serve` setting by its key (the README's table). Unlike `tributary serve`, an
 * embedded server listens on 127.0.0.1 on a free port, keeps its data in a fresh temporary
 * directory unless `dataDir` is given, logs only warnings (to stderr) unless `logLevel` is given,
 * and reads no TRIBUTARY_* variables.
 */
export type StartOptions = Partial<ServeConfig>;

export interface TributaryServer {
  /** The endpoint URL for clients: `http://127.0.0.1:<port>` (https with TLS settings). */
  url: string;
  host: string;
  port: number;
  /** Where the data lives; a temporary directory that close() removes unless one was given. */
  dataDir: string;
  /** The settings the server runs with. */
  settings: Readonly<ServeConfig>;
  /** Finishes requests in flight, closes the port and storage, and removes a temporary data directory. */
  close(): Promise<void>;
}

/** Starts a server in this process; resolves once it accepts connections. */
export async function startServer(options: StartOptions = {}): Promise<TributaryServer> {
  const embedded: ServeConfig = { ...defaultConfig, host: '127.0.0.1', port: 0, logLevel: 'warn' };
  const given = configFromValues(options, embedded);
  const temporary = options.dataDir === undefined ? mkdtempSync(path.join(tmpdir(), 'tributary-')) : undefined;
  const settings: ServeConfig = { ...given, dataDir: temporary ?? given.dataDir };
  const logger = pino({ level: settings.logLevel }, pino.destination({ dest: 2, sync: true }));
  let server;
  try {
    server = await startTributary(settings, { logger });
  } catch (err) {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
    throw err;
  }
  const running = server;
  let closing: Promise<void> | undefined;
  return {
    url: running.endpoint,
    host: running.host,
    port: running.port,
    dataDir: settings.dataDir,
    settings: Object.freeze(settings),
    close() {
      closing ??= running.close().finally(() => {
        if (temporary) rmSync(temporary, { recursive: true, force: true });
      });
      return closing;
    },
  };
}
