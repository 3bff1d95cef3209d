/**
 * docker-compose.yml, checked without a Docker engine: `docker-compose config` validates and normalises
 * it (scripts/ensure-compose.sh installs Debian's docker-compose when missing), and the checks below hold
 * it to the code: the services and their start order, the search attributes of src/messages.ts, every
 * variable src/config.ts reads, a configuration loadConfig accepts, the README's configuration table, and the
 * Temporal server the cluster tier runs (src/dev/temporal-server.ts: versions, environment, dynamic config).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import {
  TEMPORAL_DYNAMIC_CONFIG,
  TEMPORAL_DYNAMIC_CONFIG_IN_IMAGE,
  TEMPORAL_NAMESPACE_RETENTION,
  TEMPORAL_SCHEMA_VERSIONS,
  TEMPORAL_SERVER_ENV,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_VERSION,
} from '../../src/dev/temporal-server.js';
import { SEARCH_ATTRIBUTES } from '../../src/messages.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: (string | { target: number | string; published?: number | string })[];
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[] | string };
  container_name?: string;
}

let scratch: string;

/** Runs docker-compose with a bare environment and an empty env file, so the file's own defaults are what is checked. */
function compose(...args: string[]): string {
  const envFile = path.join(scratch, 'empty.env');
  return execFileSync('docker-compose', ['--env-file', envFile, '-f', COMPOSE_FILE, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function dependsOn(service: Service): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

function envOf(service: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Every variable name loadConfig reads: the `env, 'NAME'` arguments of its helpers in src/config.ts. */
function configVariables(): string[] {
  const source = readFileSync(path.join(ROOT, 'src/config.ts'), 'utf8');
  return [...new Set([...source.matchAll(/\benv,\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!))].sort();
}

/** Backticked UPPER_CASE names in the table(s) under README.md's "Configuration" heading. */
function readmeConfigurationVariables(): string[] {
  const readmePath = path.join(ROOT, 'README.md');
  if (!existsSync(readmePath)) {
    throw new Error('README.md does not exist yet: its "Configuration" table is what docker-compose.yml is checked against');
  }
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^#{1,6}\s+Configuration\b/i.test(l));
  if (start < 0) throw new Error('README.md has no "Configuration" heading (e.g. "## Configuration")');
  const level = /^#+/.exec(lines[start]!)![0].length;
  const names = new Set<string>();
  for (const line of lines.slice(start + 1)) {
    const heading = /^(#{1,6})\s/.exec(line);
    if (heading && heading[1]!.length <= level) break;
    if (!line.trimStart().startsWith('|')) continue;
    for (const m of line.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]!);
  }
  if (names.size === 0) {
    throw new Error('README.md\'s "Configuration" section has no table naming variables in backticks (| `NAME` | ... |)');
  }
  return [...names].sort();
}

let services: Record<string, Service>;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'compose-test-'));
  writeFileSync(path.join(scratch, 'empty.env'), '');
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0) {
    execFileSync('bash', [path.join(ROOT, 'scripts/ensure-compose.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  services = (parse(compose('config')) as { services: Record<string, Service> }).services;
}, 300_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('is valid for docker-compose (config -q)', () => {
    expect(() => compose('config', '-q')).not.toThrow();
  });

  it('has the whole stack: Postgres, Temporal (schema, server, UI, setup), migrations, worker and API', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'migrate', 'postgres', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui', 'worker'].sort(),
    );
  });

  it('comes up in order with no manual step', () => {
    expect(services.postgres!.healthcheck?.test).toBeDefined();
    expect(services.temporal!.healthcheck?.test).toBeDefined();
    expect(dependsOn(services['temporal-schema']!)).toEqual({ postgres: 'service_healthy' });
    expect(dependsOn(services.temporal!)).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    expect(dependsOn(services['temporal-ui']!)).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn(services['temporal-setup']!)).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn(services.migrate!)).toEqual({ postgres: 'service_healthy' });
    for (const name of ['worker', 'api']) {
      expect(dependsOn(services[name]!), name).toEqual({
        migrate: 'service_completed_successfully',
        'temporal-setup': 'service_completed_successfully',
      });
    }
  });

  it('runs two worker replicas, which therefore publish no port and have no fixed container name', () => {
    const worker = services.worker!;
    expect(worker.deploy?.replicas).toBe(2);
    expect(worker.ports ?? []).toEqual([]);
    expect(worker.container_name).toBeUndefined();
    expect(worker.command).toEqual(['node', 'dist/worker.js']);
    expect(services.migrate!.command).toEqual(['node', 'dist/db/migrate-cli.js']);
  });

  it('publishes the API on 3000, where it listens, and checks its health on /readyz', () => {
    const api = services.api!;
    const ports = (api.ports ?? []).map((p) =>
      typeof p === 'string' ? { target: p.split(':').at(-1)!.split('/')[0], published: p.split(':').at(-2) } : p,
    );
    expect(ports.map((p) => [Number(p.target), Number(p.published)])).toContainEqual([3000, 3000]);
    expect(envOf(api).HTTP_PORT).toBe('3000');
    expect(envOf(api).HTTP_HOST).toBe('0.0.0.0');
    expect(JSON.stringify(api.healthcheck?.test)).toContain('/readyz');
  });

  it('registers exactly the search attributes of src/messages.ts', () => {
    const listed = envOf(services['temporal-setup']!).SEARCH_ATTRIBUTES!.split(/\s+/).filter(Boolean).sort();
    expect(listed).toEqual(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => `${name}=${type}`).sort());
  });

  it('passes every variable src/config.ts reads to the worker or the API', () => {
    const passed = new Set([...Object.keys(envOf(services.worker!)), ...Object.keys(envOf(services.api!))]);
    const variables = configVariables();
    expect(variables.length).toBeGreaterThan(20);
    expect(variables.filter((v) => !passed.has(v))).toEqual([]);
  });

  it('gives the worker and the API a configuration that loadConfig accepts', () => {
    for (const name of ['worker', 'api', 'migrate']) {
      expect(() => loadConfig(envOf(services[name]!)), name).not.toThrow();
    }
    const api = loadConfig(envOf(services.api!));
    expect(api.ssnServiceTokens.length).toBeGreaterThan(0);
    expect(api.databaseUrl).toMatch(/@postgres:5432\//);
    expect(api.temporal.address).toBe('temporal:7233');
  });

  it('points the worker at the bundle the image builds', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const imageBundle = /WORKFLOW_BUNDLE_PATH=(\S+)/.exec(dockerfile)?.[1];
    expect(imageBundle).toBe('/app/dist/workflow-bundle.js');
    expect(envOf(services.worker!).WORKFLOW_BUNDLE_PATH).toBe(imageBundle);
    expect(dockerfile).toMatch(/CMD \["node", "dist\/http\/server\.js"\]/);
  });
});

/** Where a service's volume is mounted from, relative to the repository (long or short syntax). */
function mountsOf(service: Service): { source: string; target: string; readOnly: boolean }[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':') as [string, string, string | undefined];
      return { source: path.relative(ROOT, path.resolve(ROOT, source)), target, readOnly: mode === 'ro' };
    }
    return { source: path.relative(ROOT, path.resolve(ROOT, v.source ?? '')), target: v.target ?? '', readOnly: v.read_only === true };
  });
}

describe('docker-compose.yml and the cluster tier run the same Temporal server (src/dev/temporal-server.ts)', () => {
  it('the same server version, its admin tools and the matching UI', () => {
    expect(services.temporal!.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    for (const job of ['temporal-schema', 'temporal-setup']) {
      expect(services[job]!.image, job).toMatch(new RegExp(`^temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.replaceAll('.', '\\.')}-`));
    }
    expect(services['temporal-ui']!.image).toBe(`temporalio/ui:${TEMPORAL_UI_VERSION}`);
  });

  it('the same server environment, which the image renders its config template with', () => {
    expect(envOf(services.temporal!)).toEqual(TEMPORAL_SERVER_ENV);
  });

  it('the same dynamic config file, mounted where DYNAMIC_CONFIG_FILE_PATH points', () => {
    expect(mountsOf(services.temporal!)).toContainEqual({ source: TEMPORAL_DYNAMIC_CONFIG, target: TEMPORAL_DYNAMIC_CONFIG_IN_IMAGE, readOnly: true });
    const dynamic = parse(readFileSync(path.join(ROOT, TEMPORAL_DYNAMIC_CONFIG), 'utf8')) as Record<string, { value: unknown }[]>;
    expect(Object.keys(dynamic).length).toBeGreaterThan(0);
    for (const [key, values] of Object.entries(dynamic)) expect(values.every((v) => 'value' in v), key).toBe(true);
  });

  it('the same schema versions, applied up to the pin', () => {
    const schema = envOf(services['temporal-schema']!);
    expect({ temporal: schema.TEMPORAL_SCHEMA_VERSION, visibility: schema.VISIBILITY_SCHEMA_VERSION }).toEqual(TEMPORAL_SCHEMA_VERSIONS);
    const script = [services['temporal-schema']!.command ?? []].flat().join('\n');
    expect(script).toMatch(/update-schema -d "\$+dir" -v "\$+version"/);
  });

  it('the same namespace retention', () => {
    expect(envOf(services['temporal-setup']!).NAMESPACE_RETENTION).toBe(TEMPORAL_NAMESPACE_RETENTION);
  });
});

describe("README.md's configuration table", () => {
  it('names only variables that docker-compose.yml passes to the worker or the API', () => {
    const documented = readmeConfigurationVariables();
    const passed = new Set([...Object.keys(envOf(services.worker!)), ...Object.keys(envOf(services.api!))]);
    expect(documented.filter((v) => !passed.has(v)), 'in the README table but not in docker-compose.yml').toEqual([]);
  });

  it('documents every variable src/config.ts reads', () => {
    const documented = new Set(readmeConfigurationVariables());
    expect(configVariables().filter((v) => !documented.has(v)), 'read by src/config.ts but not in the README table').toEqual([]);
  });
});
