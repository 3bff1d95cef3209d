/**
 * The real Temporal server (not the CLI's dev server) on Postgres, for `npm run cluster` and the cluster test tier:
 * the pinned binaries, Temporal's two databases and their schemas, the server's config rendered from the image's own
 * template, the server process, and the namespace with the service's search attributes registered through the
 * operator API. The pins below are the one place the versions live: docker-compose.yml is held to them by
 * test/integration/compose.test.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection, WorkflowClient } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import pg from 'pg';
import { SEARCH_ATTRIBUTES } from '../messages.js';
import { renderGoTemplate } from './go-template.js';
import { stopProcess } from './local.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/** The server the compose file runs (`temporalio/server`), the same as the one inside the CLI's dev server. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** The Web UI image that goes with it (the UI server inside the CLI v1.5.1), for docker-compose.yml and `npm run cluster`'s hint. */
export const TEMPORAL_UI_VERSION = '2.42.1';
/** The schema versions that server ships (schema/postgresql/v12/{temporal,visibility}/versioned): both databases end there. */
export const TEMPORAL_SCHEMA_VERSIONS = { temporal: '1.18', visibility: '1.9' } as const;
/** The dynamic config both the compose stack and the cluster run with (repository-relative). */
export const TEMPORAL_DYNAMIC_CONFIG = 'config/temporal/dynamicconfig.yaml';
/** The namespace's retention when the cluster creates it (compose: TEMPORAL_NAMESPACE_RETENTION's default). */
export const TEMPORAL_NAMESPACE_RETENTION = '7d';
/** Where docker-compose.yml mounts TEMPORAL_DYNAMIC_CONFIG inside the server container. */
export const TEMPORAL_DYNAMIC_CONFIG_IN_IMAGE = '/etc/temporal/config/dynamicconfig/ssn.yaml';

/**
 * The environment docker-compose.yml gives `temporalio/server` (its defaults), which the image renders
 * `docker/config_template.yaml` with. The cluster renders the same template from this, with only the
 * addresses of one host replaced (see `clusterServerEnv`).
 */
export const TEMPORAL_SERVER_ENV: Readonly<Record<string, string>> = {
  DB: 'postgres12',
  DB_PORT: '5432',
  POSTGRES_SEEDS: 'postgres',
  POSTGRES_USER: 'temporal',
  POSTGRES_PWD: 'temporal',
  BIND_ON_IP: '0.0.0.0',
  NUM_HISTORY_SHARDS: '4',
  LOG_LEVEL: 'warn',
  PROMETHEUS_ENDPOINT: '0.0.0.0:8000',
  DYNAMIC_CONFIG_FILE_PATH: TEMPORAL_DYNAMIC_CONFIG_IN_IMAGE,
};

const MODULE = 'go.temporal.io/server';
const BINARIES = { server: 'cmd/server', sqlTool: 'cmd/tools/sql' } as const;
const BINARY_NAMES = { server: 'temporal-server', sqlTool: 'temporal-sql-tool' } as const;

export type Log = (line: string) => void;

export interface ServerBinaries {
  server: string;
  sqlTool: string;
  /** The server module's source at the pinned version: the config template and the schemas. */
  moduleDir: string;
}

async function go(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run('go', args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('Go is not installed: the Temporal server and its schema tool are built with `go install` (https://go.dev/dl/)');
    throw new Error(`go ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** The module version a Go binary was built from (`go version -m`), or undefined. */
async function moduleVersionOf(binary: string): Promise<string | undefined> {
  if (!existsSync(binary)) return undefined;
  const info = await go(['version', '-m', binary]).catch(() => '');
  return /^\s*mod\s+go\.temporal\.io\/server\s+(\S+)/m.exec(info)?.[1];
}

/** The pinned server module's source in Go's module cache (downloaded when missing). */
export async function serverModuleDir(): Promise<string> {
  const { Dir } = JSON.parse(await go(['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`])) as { Dir: string };
  return Dir;
}

/**
 * The two binaries at the pinned version, from `.tools/bin` or built there with `go install` (a first build takes
 * a few minutes; later ones come from Go's build cache). TEMPORAL_SERVER_BIN / TEMPORAL_SQL_TOOL_BIN override.
 */
export async function ensureServerBinaries(log: Log): Promise<ServerBinaries> {
  const want = `v${TEMPORAL_SERVER_VERSION}`;
  const moduleDir = await serverModuleDir();
  const binDir = path.join(ROOT, '.tools/bin');
  mkdirSync(binDir, { recursive: true });
  const found: Partial<Record<keyof typeof BINARIES, string>> = {};
  for (const key of Object.keys(BINARIES) as (keyof typeof BINARIES)[]) {
    const override = process.env[key === 'server' ? 'TEMPORAL_SERVER_BIN' : 'TEMPORAL_SQL_TOOL_BIN'];
    if (override) {
      found[key] = path.resolve(override);
      continue;
    }
    const target = path.join(binDir, BINARY_NAMES[key]);
    if ((await moduleVersionOf(target)) !== want) {
      log(`building ${BINARY_NAMES[key]} ${want} with go install into .tools/bin (the first server build takes a few minutes)`);
      // Into a scratch folder, then renamed: a server running from the target never sees a half-written file.
      const scratch = mkdtempSync(path.join(binDir, '.partial-'));
      try {
        await go(['install', `${MODULE}/${BINARIES[key]}@${want}`], { GOBIN: scratch, GOFLAGS: '-buildvcs=false' });
        renameSync(path.join(scratch, path.basename(BINARIES[key])), target);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    found[key] = target;
  }
  return { server: found.server!, sqlTool: found.sqlTool!, moduleDir };
}

// ---- databases -------------------------------------------------------------------------------------------

export interface TemporalDatabases {
  /** Temporal's persistence and its visibility, each a database of its own on the same server. */
  temporal: string;
  visibility: string;
}

/** Where Temporal's databases live: host, port, credentials of a Postgres server. */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function postgresServerOf(url: string): PostgresServer {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

function latestVersion(dir: string): string {
  const versions = readdirSync(dir)
    .filter((d) => /^v\d+\.\d+$/.test(d))
    .map((d) => d.slice(1))
    .sort((a, b) => {
      const [am, an] = a.split('.').map(Number) as [number, number];
      const [bm, bn] = b.split('.').map(Number) as [number, number];
      return am - bm || an - bn;
    });
  return versions.at(-1)!;
}

/**
 * Creates the two databases when missing and brings their schemas to the pinned versions with the server's schema
 * tool (`create-database`, `setup-schema -v 0.0` once, `update-schema -d <versioned dir> -v <pin>`), as
 * docker-compose.yml's temporal-schema job does. Safe to run again: an up-to-date schema is left alone.
 */
export async function setupTemporalSchemas(opts: {
  binaries: ServerBinaries;
  server: PostgresServer;
  databases: TemporalDatabases;
  log: Log;
}): Promise<void> {
  const { binaries, server, databases, log } = opts;
  const schemaRoot = path.join(binaries.moduleDir, 'schema/postgresql/v12');
  const admin = new pg.Client({ ...server, database: 'postgres' });
  await admin.connect();
  try {
    for (const [kind, database] of [['temporal', databases.temporal], ['visibility', databases.visibility]] as const) {
      const dir = path.join(schemaRoot, kind, 'versioned');
      const pinned = TEMPORAL_SCHEMA_VERSIONS[kind];
      const shipped = latestVersion(dir);
      if (shipped !== pinned) {
        throw new Error(
          `server ${TEMPORAL_SERVER_VERSION} ships the ${kind} schema ${shipped}, but TEMPORAL_SCHEMA_VERSIONS pins ${pinned}: update the pin in src/dev/temporal-server.ts and docker-compose.yml together`,
        );
      }
      const tool = (...args: string[]) =>
        run(binaries.sqlTool, ['--plugin', 'postgres12', '--endpoint', server.host, '--port', String(server.port), '--user', server.user, '--password', server.password, '--database', database, ...args], {
          maxBuffer: 16 * 1024 * 1024,
        }).catch((err: { stderr?: string; message: string }) => {
          throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed: ${err.stderr?.trim() || err.message}`);
        });
      const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
      if (!exists) {
        log(`creating database ${database}`);
        await tool('create-database');
      }
      const db = new pg.Client({ ...server, database });
      await db.connect();
      const hasVersionTable = (await db.query<{ t: string | null }>(`SELECT to_regclass('public.schema_version')::text AS t`)).rows[0]!.t !== null;
      await db.end();
      // setup-schema on a database that has one would reset its recorded version, so it runs only once.
      if (!hasVersionTable) await tool('setup-schema', '-v', '0.0');
      await tool('update-schema', '-d', dir, '-v', pinned);
    }
  } finally {
    await admin.end();
  }
}

// ---- the server's config -------------------------------------------------------------------------------

/** Ports of one server's four services (gRPC and membership) and its HTTP and metrics endpoints. */
export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

/** The template's own defaults, which the compose stack uses. */
export const DEFAULT_SERVER_PORTS: ServerPorts = {
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
  metrics: 8000,
};

/**
 * TEMPORAL_SERVER_ENV with what differs on one host: Postgres' address and credentials, loopback instead of
 * the container's interfaces, the repository's dynamic config file, the database names, and the ports.
 */
export function clusterServerEnv(opts: { server: PostgresServer; databases: TemporalDatabases; ports: ServerPorts; logLevel?: string }): Record<string, string> {
  const { server, databases, ports } = opts;
  return {
    ...TEMPORAL_SERVER_ENV,
    POSTGRES_SEEDS: server.host,
    DB_PORT: String(server.port),
    POSTGRES_USER: server.user,
    POSTGRES_PWD: server.password,
    DBNAME: databases.temporal,
    VISIBILITY_DBNAME: databases.visibility,
    BIND_ON_IP: '127.0.0.1',
    PROMETHEUS_ENDPOINT: `127.0.0.1:${ports.metrics}`,
    DYNAMIC_CONFIG_FILE_PATH: path.join(ROOT, TEMPORAL_DYNAMIC_CONFIG),
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    ...(opts.logLevel ? { LOG_LEVEL: opts.logLevel } : {}),
  };
}

/** The image's config template (docker/config_template.yaml of the pinned module) rendered with `env`. */
export function renderServerConfig(moduleDir: string, env: Record<string, string>): string {
  return renderGoTemplate(readFileSync(path.join(moduleDir, 'docker/config_template.yaml'), 'utf8'), env);
}

// ---- the server process --------------------------------------------------------------------------------

export interface TemporalServer {
  address: string;
  metricsUrl: string;
  logFile: string;
  readonly child: ChildProcess;
  /** SIGKILL, as a crash would; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same config and ports (after `kill` or `stop`) and waits until it answers. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/**
 * `temporal-server --env docker start` with the rendered config written where `--env docker` reads it
 * (`<rootDir>/config/docker.yaml`), as the image runs it; in its own process group, its output in `<rootDir>/server.log`.
 */
export async function startTemporalServer(opts: { binaries: ServerBinaries; rootDir: string; env: Record<string, string>; log: Log }): Promise<TemporalServer> {
  const configDir = path.join(opts.rootDir, 'config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(path.join(configDir, 'docker.yaml'), renderServerConfig(opts.binaries.moduleDir, opts.env));
  const logFile = path.join(opts.rootDir, 'server.log');
  const address = `127.0.0.1:${opts.env.FRONTEND_GRPC_PORT}`;
  let child!: ChildProcess;
  const spawnServer = () => {
    const out = openSync(logFile, 'a');
    child = spawn(opts.binaries.server, ['--root', opts.rootDir, '--config', 'config', '--env', 'docker', '--allow-no-auth', 'start'], {
      stdio: ['ignore', out, out],
      detached: true,
    });
  };
  const waitUntilServing = async () => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the Temporal server exited (code ${child.exitCode}); see ${logFile}`);
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.getSystemInfo({});
          // The frontend answers before history owns its shards; a namespace read goes through persistence.
          await connection.workflowService.getClusterInfo({});
        } finally {
          await connection.close();
        }
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the Temporal server did not answer on ${address} within 120 s: ${String(err)}; see ${logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  spawnServer();
  const server: TemporalServer = {
    address,
    metricsUrl: `http://${opts.env.PROMETHEUS_ENDPOINT}/metrics`,
    logFile,
    get child() {
      return child;
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGKILL');
      await gone;
    },
    start: async () => {
      if (child.exitCode === null && child.signalCode === null) throw new Error('the Temporal server is already running');
      spawnServer();
      await waitUntilServing();
    },
    stop: () => stopProcess(child, { group: true, graceMs: 15_000 }),
  };
  try {
    await waitUntilServing();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

// ---- namespace and search attributes -------------------------------------------------------------------

function indexedValueType(type: string): proto.temporal.api.enums.v1.IndexedValueType {
  const name = `INDEXED_VALUE_TYPE_${type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}` as keyof typeof proto.temporal.api.enums.v1.IndexedValueType;
  const value = proto.temporal.api.enums.v1.IndexedValueType[name];
  if (value === undefined) throw new Error(`unknown search attribute type ${type}`);
  return value;
}

/** A value of each attribute's type, for the readiness check's start. */
function sampleAttribute(name: string, type: string): SearchAttributePair {
  const sat = type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() as keyof typeof SearchAttributeType;
  const samples: Record<string, unknown> = { KEYWORD: 'ready-check', TEXT: 'ready-check', KEYWORD_LIST: ['ready-check'], INT: 0, DOUBLE: 0, BOOL: false, DATETIME: new Date(0) };
  return { key: defineSearchAttributeKey(name, SearchAttributeType[sat]), value: samples[sat] } as SearchAttributePair;
}

/**
 * Creates the namespace when missing and registers SEARCH_ATTRIBUTES (src/messages.ts) through the operator API,
 * then waits until the server accepts a workflow start carrying every one of them (a new namespace and new
 * attributes reach the frontend's caches after a few seconds), as docker-compose.yml's temporal-setup job does.
 */
export async function registerNamespace(opts: { address: string; namespace: string; retention?: string; log: Log }): Promise<void> {
  const { address, namespace, log } = opts;
  const connection = await Connection.connect({ address });
  try {
    const retry = async <T>(what: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          return await fn();
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`${what} did not succeed within ${timeoutMs / 1000} s: ${String(err)}`);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    };
    const service = connection.workflowService;
    const exists = await service.describeNamespace({ namespace }).then(
      () => true,
      (err: { code?: number }) => {
        if (err.code === 5) return false; // NOT_FOUND
        throw err;
      },
    );
    if (!exists) {
      log(`creating namespace ${namespace}`);
      const workflowExecutionRetentionPeriod = msToTs(opts.retention ?? TEMPORAL_NAMESPACE_RETENTION);
      await service.registerNamespace({ namespace, workflowExecutionRetentionPeriod }).catch((err: { code?: number }) => {
        if (err.code !== 6) throw err; // ALREADY_EXISTS: a concurrent setup won
      });
    }
    await retry(`describing namespace ${namespace}`, () => service.describeNamespace({ namespace }));
    const listed = await retry('listing search attributes', () => connection.operatorService.listSearchAttributes({ namespace }));
    const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !(name in (listed.customAttributes ?? {})));
    if (missing.length > 0) {
      log(`registering search attributes ${missing.map(([name, type]) => `${name} (${type})`).join(', ')}`);
      await retry('registering search attributes', () =>
        connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, indexedValueType(type)])),
        }),
      );
    }
    const client = new WorkflowClient({ connection, namespace });
    const typedSearchAttributes = Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => sampleAttribute(name, type));
    await retry('a workflow start carrying every search attribute', async () => {
      const handle = await client.start('ssn-cluster-readiness-check', {
        taskQueue: 'ssn-cluster-readiness-check',
        workflowId: `ssn-cluster-readiness-check-${Date.now()}`,
        typedSearchAttributes,
      });
      await handle.terminate('readiness check');
    });
  } finally {
    await connection.close();
  }
}
