/**
 * How this service reaches Temporal: one set of options for both the client (`Connection.connect`)
 * and the worker (`NativeConnection.connect`): address, TLS / mTLS, or an API key (Temporal Cloud).
 *
 * Settings come from config.ts (TEMPORAL_ADDRESS, TEMPORAL_TLS*, TEMPORAL_API_KEY). A Temporal
 * environment-configuration profile (the TOML file `temporal config` writes, read by the SDK's
 * `@temporalio/envconfig`) is used as a fallback, and only when asked for with TEMPORAL_PROFILE or
 * TEMPORAL_CONFIG_FILE: a developer's default profile never silently redirects a service.
 * Variables set in the environment always win over the profile.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, type Config } from '../config.js';
import { tracingClientInterceptors } from '../tracing/install.js';
import { dataConverterOf } from './codec.js';

type Env = Record<string, string | undefined>;

/** The subset of options that `ConnectionOptions` and `NativeConnectionOptions` share. */
export interface TemporalConnectionOptions {
  address: string;
  /** `false`: plaintext (local dev server, compose). A TLSConfig, possibly empty: TLS with system roots. */
  tls: TLSConfig | false;
  apiKey?: string;
  /** gRPC headers from a profile's `grpc_meta`. */
  metadata?: Record<string, string>;
}

/** Safe to log: where and how we connect, never a key, a certificate or an API key. */
export interface TemporalConnectionSummary {
  address: string;
  namespace: string;
  tls: boolean;
  clientCertificate: boolean;
  customCa: boolean;
  apiKey: boolean;
  profile?: string;
}

// ---- the optional profile (@temporalio/envconfig) --------------------------------------------

type DataSource = { path: string } | { data: string | Uint8Array };

/** The part of `@temporalio/envconfig`'s ClientConfigProfile we use (its own types are not a dependency). */
interface EnvProfile {
  address?: string;
  namespace?: string;
  apiKey?: string;
  tls?: { disabled?: boolean; serverName?: string; clientCert?: DataSource; clientKey?: DataSource; serverCACert?: DataSource };
  grpcMeta?: Record<string, string>;
}

interface EnvConfigModule {
  loadClientConfigProfile(options: {
    profile?: string;
    configSource?: DataSource;
    disableEnv?: boolean;
    overrideEnvVars?: Record<string, string>;
  }): EnvProfile;
}

const ENVCONFIG_PACKAGE = '@temporalio/envconfig';

function isSet(env: Env, name: string): boolean {
  const value = env[name]?.trim();
  return value !== undefined && value !== '';
}

function loadEnvConfig(): EnvConfigModule {
  try {
    // CommonJS package, loaded only when a profile is asked for, so it stays an optional dependency.
    return createRequire(import.meta.url)(ENVCONFIG_PACKAGE) as EnvConfigModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new ConfigError(
        `TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE need the ${ENVCONFIG_PACKAGE} package: npm install ${ENVCONFIG_PACKAGE}@1.24`,
      );
    }
    throw err;
  }
}

/** The named profile, file only: its own environment overrides are not applied (ours are, below). */
function loadProfile(env: Env): { name: string; profile: EnvProfile } | undefined {
  if (!isSet(env, 'TEMPORAL_PROFILE') && !isSet(env, 'TEMPORAL_CONFIG_FILE')) return undefined;
  const name = env.TEMPORAL_PROFILE?.trim() || 'default';
  const file = env.TEMPORAL_CONFIG_FILE?.trim();
  // envconfig reads a missing file as an empty one; a named file that is not there is a mistake.
  if (file && !existsSync(file)) throw new ConfigError(`TEMPORAL_CONFIG_FILE=${file}: no such file`);
  const defined = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  try {
    const profile = loadEnvConfig().loadClientConfigProfile({
      profile: name,
      ...(file ? { configSource: { path: file } } : {}),
      disableEnv: true,
      overrideEnvVars: defined,
    });
    return { name, profile };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const where = file ? `TEMPORAL_CONFIG_FILE=${file}` : 'the default Temporal config file';
    throw new ConfigError(`TEMPORAL_PROFILE=${name}: cannot load it from ${where}: ${(err as Error).message}`);
  }
}

// ---- merging ---------------------------------------------------------------------------------

type Source = { variable: string; path: string } | { variable: string; data: string | Uint8Array };

interface Resolved {
  address: string;
  tls: boolean;
  clientCert?: Source;
  clientKey?: Source;
  ca?: Source;
  serverName?: string;
  apiKey?: string;
  metadata?: Record<string, string>;
  profile?: string;
}

function fromProfile(what: string, profileName: string, src: DataSource | undefined): Source | undefined {
  if (src === undefined) return undefined;
  const variable = `profile ${profileName} ${what}`;
  return 'path' in src ? { variable, path: src.path } : { variable, data: src.data };
}

function resolve(config: Config, env: Env): Resolved {
  const t = config.temporal;
  const loaded = loadProfile(env);
  const p = loaded?.profile ?? {};
  const name = loaded?.name ?? '';

  // One namespace for the worker, the API and the UI links: Worker.create and the client both take it
  // from config.ts, so a profile may not quietly point at another one.
  if (p.namespace !== undefined && !isSet(env, 'TEMPORAL_NAMESPACE') && p.namespace !== t.namespace) {
    throw new ConfigError(
      `Temporal profile ${name} names namespace ${JSON.stringify(p.namespace)}, but this service takes the namespace ` +
        `from TEMPORAL_NAMESPACE (now ${JSON.stringify(t.namespace)}): set TEMPORAL_NAMESPACE=${p.namespace}`,
    );
  }

  const envPair = t.tlsCertPath !== undefined && t.tlsKeyPath !== undefined;
  const clientCert = envPair
    ? { variable: 'TEMPORAL_TLS_CERT_PATH', path: t.tlsCertPath! }
    : fromProfile('tls.client_cert', name, p.tls?.clientCert);
  const clientKey = envPair
    ? { variable: 'TEMPORAL_TLS_KEY_PATH', path: t.tlsKeyPath! }
    : fromProfile('tls.client_key', name, p.tls?.clientKey);
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new ConfigError(`Temporal profile ${name} must give both a client certificate and a client key, or neither`);
  }
  const apiKey = t.apiKey ?? p.apiKey;

  let tls: boolean;
  if (isSet(env, 'TEMPORAL_TLS') || t.tls) tls = t.tls; // explicit, or implied by our own cert / API key
  else if (p.tls !== undefined) tls = p.tls.disabled !== true;
  else tls = apiKey !== undefined || clientCert !== undefined;

  if (!tls && clientCert !== undefined) {
    throw new ConfigError('TEMPORAL_TLS is false but a client certificate is configured: mTLS needs TLS');
  }

  const resolved: Resolved = {
    address: isSet(env, 'TEMPORAL_ADDRESS') ? t.address : (p.address ?? t.address),
    tls,
  };
  if (clientCert) resolved.clientCert = clientCert;
  if (clientKey) resolved.clientKey = clientKey;
  const ca =
    t.tlsCaPath !== undefined
      ? { variable: 'TEMPORAL_TLS_CA_PATH', path: t.tlsCaPath }
      : fromProfile('tls.server_ca_cert', name, p.tls?.serverCACert);
  if (ca) resolved.ca = ca;
  const serverName = t.tlsServerName ?? p.tls?.serverName;
  if (serverName) resolved.serverName = serverName;
  if (apiKey !== undefined) resolved.apiKey = apiKey;
  if (p.grpcMeta && Object.keys(p.grpcMeta).length > 0) resolved.metadata = { ...p.grpcMeta };
  if (loaded) resolved.profile = name;
  return resolved;
}

function read(src: Source): Uint8Array {
  if ('data' in src) return typeof src.data === 'string' ? Buffer.from(src.data) : src.data;
  try {
    return readFileSync(src.path);
  } catch (err) {
    // The path and the error code only: never the file's content.
    throw new ConfigError(`${src.variable}: cannot read ${src.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

// ---- public API ------------------------------------------------------------------------------

/**
 * Options for `Connection.connect` and `NativeConnection.connect`. Reads the certificate files now,
 * so a wrong path fails at start with the variable's name. Throws ConfigError.
 */
export function temporalConnectionOptions(config: Config, env: Env = process.env): TemporalConnectionOptions {
  const r = resolve(config, env);
  const options: TemporalConnectionOptions = { address: r.address, tls: false };
  if (r.tls) {
    const tls: TLSConfig = {};
    if (r.serverName) tls.serverNameOverride = r.serverName;
    if (r.ca) tls.serverRootCACertificate = read(r.ca);
    if (r.clientCert && r.clientKey) tls.clientCertPair = { crt: read(r.clientCert), key: read(r.clientKey) };
    options.tls = tls;
  }
  if (r.apiKey !== undefined) options.apiKey = r.apiKey;
  if (r.metadata) options.metadata = r.metadata;
  return options;
}

/** For the start-up log line. */
export function describeTemporalConnection(config: Config, env: Env = process.env): TemporalConnectionSummary {
  const r = resolve(config, env);
  return {
    address: r.address,
    namespace: config.temporal.namespace,
    tls: r.tls,
    clientCertificate: r.clientCert !== undefined,
    customCa: r.ca !== undefined,
    apiKey: r.apiKey !== undefined,
    ...(r.profile !== undefined ? { profile: r.profile } : {}),
  };
}

/** A client on `connection` with this service's namespace and payload codec: every Client is made here. */
export function temporalClient(config: Config, connection: Connection): Client {
  const interceptors = tracingClientInterceptors(); // OpenTelemetry's when tracing is on
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverterOf(config), ...(interceptors ? { interceptors } : {}) });
}

/** The HTTP API's (and activities') connection and client; reuse one per process. */
export async function connectClient(config: Config, env: Env = process.env): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect(temporalConnectionOptions(config, env));
  return { connection, client: temporalClient(config, connection) };
}

/** The worker's connection; reuse one per process. */
export async function connectWorker(config: Config, env: Env = process.env): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config, env));
}
