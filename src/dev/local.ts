/**
 * Local infrastructure for the stack (`npm start`), the tests and the bench: a Temporal dev server in its own
 * process group, free ports, scratch databases. Not used by the worker or the API.
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { SEARCH_ATTRIBUTES } from '../messages.js';
import { spawnOwned } from './processes.js';

export { stopProcess } from './processes.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface DevServerOptions {
  cli: string;
  /** gRPC port; a free one when not given. */
  port?: number;
  /** The Web UI's port; headless when not given. */
  uiPort?: number;
  /** The codec endpoint the Web UI decodes payloads with (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  /** SQLite file that keeps state between runs; in memory when not given. */
  dbFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
}

export interface DevServer {
  address: string;
  /** The server's Prometheus endpoint, when it was given a port of its own (in-memory servers). */
  metricsUrl: string | null;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `temporal server start-dev` with the project's search attributes, in its own process group (a Ctrl-C reaches
 * whoever started it, who stops it last) and with a watchdog (it goes down when its starter dies), ready once it answers.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const host = opts.port === undefined ? '127.0.0.1' : 'localhost';
  const args = ['server', 'start-dev', '--port', String(port), '--log-level', opts.logLevel ?? 'never'];
  const metricsPort = opts.port === undefined ? await freePort() : null;
  if (metricsPort !== null) args.push('--ip', '127.0.0.1', '--http-port', String(await freePort()), '--metrics-port', String(metricsPort));
  args.push(...(opts.uiPort === undefined ? ['--headless'] : ['--ui-port', String(opts.uiPort)]));
  if (opts.uiCodecEndpoint !== undefined) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.dbFile !== undefined) {
    args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF');
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  const { child, stop } = spawnOwned(opts.cli, args, { stdio: ['ignore', 'ignore', 'inherit'], graceMs: 10_000 });
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  const server: DevServer = {
    address: `${host}:${port}`,
    metricsUrl: metricsPort === null ? null : `http://127.0.0.1:${metricsPort}/metrics`,
    child,
    stop,
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (spawnError) throw new Error(`could not run the Temporal CLI ${opts.cli}: ${spawnError.message}`);
    if (child.exitCode !== null) {
      throw new Error(`the Temporal dev server exited (code ${child.exitCode}); is port ${port}${opts.uiPort ? ` or ${opts.uiPort}` : ''} taken?`);
    }
    try {
      const connection = await Connection.connect({ address: server.address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return server;
    } catch (err) {
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`the Temporal dev server did not answer on ${server.address}: ${String(err)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on the server `serverUrl` points at (a URL of its own database is returned). */
export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
