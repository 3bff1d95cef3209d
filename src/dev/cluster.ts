/**
 * The production shape on one machine (`npm run cluster`, the cluster test tier): Postgres (embedded, or the server
 * DATABASE_URL names) holding the service's database and Temporal's two; the real Temporal server on them; the
 * namespace and search attributes registered through the operator API; the migrations; and worker and API processes
 * run from the compiled build (dist/ and its prebuilt workflow bundle), as the container image runs them.
 * Every process can be killed and started again, which is what the fault tests do.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { freePort, stopProcess } from './local.js';
import {
  clusterServerEnv,
  DEFAULT_SERVER_PORTS,
  ensureServerBinaries,
  postgresServerOf,
  registerNamespace,
  setupTemporalSchemas,
  startTemporalServer,
  type Log,
  type ServerPorts,
  type TemporalServer,
} from './temporal-server.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIST = path.join(ROOT, 'dist');
export const WORKFLOW_BUNDLE = path.join(DIST, 'workflow-bundle.js');

export interface ClusterOptions {
  /** State and logs: Postgres' data (when embedded), the server's rendered config and log, each process' log. */
  rootDir: string;
  /** A Postgres server to use (any database on it); an embedded one in `rootDir/postgres` when not given. */
  databaseUrl?: string;
  /** The embedded Postgres' port (a free one when not given). */
  postgresPort?: number;
  /** The Temporal server's ports: the template's defaults (7233, ...) when not given, `'free'` for free ones. */
  serverPorts?: ServerPorts | 'free';
  /** One API process per port (0: a free port). */
  apiPorts: number[];
  workers: number;
  namespace: string;
  /** Names of the three databases (defaults: ssn, temporal, temporal_visibility). */
  databases?: { service: string; temporal: string; visibility: string };
  /** Environment for every worker and API process, on top of the cluster's addresses. */
  appEnv: Record<string, string>;
  temporalLogLevel?: string;
  log: Log;
}

/** A worker or API process of the compiled build, which can be killed and started again. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private readonly logStream: WriteStream;
  /** How many times it was started. */
  starts = 0;

  constructor(
    readonly name: string,
    readonly role: 'worker' | 'api',
    private readonly env: Record<string, string>,
    readonly logFile: string,
    /** The API's base URL (APIs only). */
    readonly url: string | null,
  ) {
    this.logStream = createWriteStream(logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once it serves: the API answers /readyz, the worker logged that it polls. */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const entry = this.role === 'worker' ? 'dist/worker.js' : 'dist/http/server.js';
    const child = spawn(process.execPath, [entry], { cwd: ROOT, env: { ...baseEnv(), ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.starts++;
    let started = false;
    const ready = new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        this.logStream.write(`${line}\n`);
        if (!started && this.role === 'worker' && line.includes('"msg":"worker started"')) {
          started = true;
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => this.logStream.write(chunk));
      child.once('exit', (code, signal) => {
        if (!started) reject(new Error(`${this.name} exited during start (${signal ?? `code ${code}`}); see ${this.logFile}`));
      });
    });
    ready.catch(() => undefined);
    if (this.role === 'api') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!this.running) await ready; // throws the exit
        const ok = await fetch(`${this.url}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`${this.name} did not become ready within ${timeoutMs / 1000} s; see ${this.logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      started = true;
    } else {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.name} did not start within ${timeoutMs / 1000} s; see ${this.logFile}`)), timeoutMs);
      });
      try {
        await Promise.race([ready, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** SIGKILL (a crash, an OOM kill, a lost machine); resolves once it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    const gone = once(this.child!, 'exit');
    this.child!.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM, as a deploy or scale-down does: the API drains its requests, the worker its activities. */
  async stop(graceMs = 40_000): Promise<void> {
    if (this.child) await stopProcess(this.child, { group: false, graceMs });
  }

  close(): void {
    this.logStream.end();
  }
}

/** What a child process needs from ours: PATH and friends, never this process' DATABASE_URL or tokens. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'NODE_OPTIONS'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** `npm run build` (dist/ and the workflow bundle) unless dist is newer than every source file. */
export function ensureBuild(log: Log): void {
  const sources = Math.max(newestMtime(path.join(ROOT, 'src')), ...['package-lock.json', 'tsconfig.build.json', 'scripts/build-bundle.ts'].map((f) => statSync(path.join(ROOT, f)).mtimeMs));
  if (existsSync(WORKFLOW_BUNDLE) && statSync(WORKFLOW_BUNDLE).mtimeMs > sources) return;
  log('building the service (npm run build: dist/ and the workflow bundle)');
  const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) throw new Error('npm run build failed');
}

export interface ClusterPostgres {
  /** A URL of the server (its `postgres` database). */
  serverUrl: string;
  embedded: boolean;
  /** Stops the embedded Postgres (fast shutdown: open connections are cut) and starts it again on the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Where the embedded server keeps its data (as root under a private folder, moved to /var/tmp); else undefined. */
  dataDir: string | undefined;
}

export interface Cluster {
  postgres: ClusterPostgres;
  temporal: TemporalServer;
  namespace: string;
  /** The service's own database. */
  databaseUrl: string;
  workers: ServiceProcess[];
  apis: ServiceProcess[];
  /** Stops everything in order: APIs, workers (drained), the Temporal server, Postgres. */
  stop(): Promise<void>;
}

async function startPostgres(opts: ClusterOptions): Promise<ClusterPostgres> {
  if (opts.databaseUrl) {
    const url = new URL(opts.databaseUrl);
    url.pathname = '/postgres';
    return {
      serverUrl: url.toString(),
      embedded: false,
      restart: () => Promise.reject(new Error('only the embedded Postgres can be restarted')),
      stop: async () => undefined,
      dataDir: undefined,
    };
  }
  const dataDir = path.join(opts.rootDir, 'postgres');
  const port = opts.postgresPort ?? (await freePort());
  let db = await startEmbeddedPostgres({ dataDir, port, database: 'postgres', log: opts.log });
  return {
    serverUrl: db.url,
    embedded: true,
    restart: async () => {
      await db.stop();
      db = await startEmbeddedPostgres({ dataDir, port, database: 'postgres', log: opts.log });
    },
    stop: () => db.stop(),
    dataDir: db.dataDir,
  };
}

async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '')}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A port free on loopback below the OS' ephemeral range. */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}

/**
 * Free ports for the server's services. Below 32768: Temporal records its services' ports in the cluster_membership
 * table as a smallint, so a port from the ephemeral range (32768-60999, what port 0 gives) stops the server at start.
 */
async function freeServerPorts(): Promise<ServerPorts> {
  const ports = {} as ServerPorts;
  const taken = new Set<number>();
  for (const key of Object.keys(DEFAULT_SERVER_PORTS) as (keyof ServerPorts)[]) ports[key] = await freeLowPort(taken);
  return ports;
}

function runMigrations(databaseUrl: string, log: Log): void {
  const migrated = spawnSync(process.execPath, ['dist/db/migrate-cli.js'], { cwd: ROOT, env: { ...baseEnv(), DATABASE_URL: databaseUrl }, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`migrations failed: ${migrated.stderr || migrated.stdout}`);
  const applied = (JSON.parse(migrated.stdout.trim().split('\n').at(-1)!) as { applied: string[] }).applied;
  log(`migrations: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const { log } = opts;
  const names = opts.databases ?? { service: 'ssn', temporal: 'temporal', visibility: 'temporal_visibility' };
  mkdirSync(path.join(opts.rootDir, 'logs'), { recursive: true });
  const stack: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stack.splice(0).reverse()) await stop().catch((err: unknown) => log(`stopping: ${String(err)}`));
  };
  try {
    const [binaries] = await Promise.all([ensureServerBinaries(log), Promise.resolve().then(() => ensureBuild(log))]);
    const postgres = await startPostgres(opts);
    stack.push(() => postgres.stop());
    const pgServer = postgresServerOf(postgres.serverUrl);
    const databases = { temporal: names.temporal, visibility: names.visibility };
    await setupTemporalSchemas({ binaries, server: pgServer, databases, log });
    const databaseUrl = await ensureDatabase(postgres.serverUrl, names.service);
    runMigrations(databaseUrl, log);

    const ports = opts.serverPorts === 'free' ? await freeServerPorts() : (opts.serverPorts ?? DEFAULT_SERVER_PORTS);
    const env = clusterServerEnv({ server: pgServer, databases, ports, logLevel: opts.temporalLogLevel });
    log(`starting the Temporal server ${binaries.server} on ${env.FRONTEND_GRPC_PORT}`);
    const temporal = await startTemporalServer({ binaries, rootDir: path.join(opts.rootDir, 'temporal'), env, log });
    stack.push(() => temporal.stop());
    await registerNamespace({ address: temporal.address, namespace: opts.namespace, log });

    const appEnv = {
      ...opts.appEnv,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: opts.namespace,
      WORKFLOW_BUNDLE_PATH: WORKFLOW_BUNDLE,
      NODE_ENV: 'production',
    };
    const logFile = (name: string) => path.join(opts.rootDir, 'logs', `${name}.log`);
    const workers = Array.from({ length: opts.workers }, (_, i) => new ServiceProcess(`worker-${i + 1}`, 'worker', appEnv, logFile(`worker-${i + 1}`), null));
    const apis: ServiceProcess[] = [];
    for (const [i, requested] of opts.apiPorts.entries()) {
      const port = requested || (await freePort());
      const env = { ...appEnv, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) };
      apis.push(new ServiceProcess(`api-${i + 1}`, 'api', env, logFile(`api-${i + 1}`), `http://127.0.0.1:${port}`));
    }
    for (const p of [...workers, ...apis]) {
      stack.push(async () => {
        await p.stop();
        p.close();
      });
    }
    log(`starting ${workers.length} workers and ${apis.length} API processes`);
    await Promise.all([...workers, ...apis].map((p) => p.start()));
    return { postgres, temporal, namespace: opts.namespace, databaseUrl, workers, apis, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
