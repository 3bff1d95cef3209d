/**
 * Starts what every integration test shares, once per run: a real Temporal dev server (in memory,
 * with the project's search attributes), a real Postgres (DATABASE_URL, else embedded) with a fresh
 * database and its migrations, and the workflow bundle. Each test file runs its own worker on its own task queue.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import './provided.js';
import { newKeyEntry } from '../src/crypto/keyring.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createScratchDatabase, freePort, startDevServer } from '../src/dev/local.js';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/worker/bundle-options.js';
import { WORKFLOWS_PATH } from '../src/worker/start.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function temporalCli(): string {
  const cli = process.env.TEMPORAL_CLI || path.join(ROOT, '.tools/bin/temporal');
  if (!existsSync(cli)) {
    throw new Error(`no Temporal CLI at ${cli}: run the tests with \`npm test\` (it builds one), or set TEMPORAL_CLI`);
  }
  return cli;
}

/** DATABASE_URL's server, else an embedded cluster of this run's own; either way a fresh database. */
async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  let serverUrl = process.env.DATABASE_URL;
  let stopServer = async () => undefined;
  if (!serverUrl) {
    // A cluster per run (initdb takes about a second), so runs side by side never share one.
    const dataDir = path.join(ROOT, '.data/test-pg', String(process.pid));
    const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
    serverUrl = embedded.url;
    stopServer = async () => {
      await embedded.stop();
      await rm(embedded.dataDir, { recursive: true, force: true }); // dataDir, or where it had to move
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const database = await createScratchDatabase(serverUrl, 'ssn_test');
  return {
    url: database.url,
    stop: async () => {
      await database.drop().catch(() => undefined);
      await stopServer();
    },
  };
}

export default async function setup(project: TestProject) {
  const cli = temporalCli();
  const bundleDir = path.join(ROOT, '.data/test-bundle');
  await mkdir(bundleDir, { recursive: true });
  const started = await Promise.allSettled([
    startDevServer({ cli }),
    startPostgres(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger, ...WORKFLOW_BUNDLE_OPTIONS }),
  ] as const);
  const [temporalResult, postgresResult, bundleResult] = started;
  if (temporalResult.status === 'rejected' || postgresResult.status === 'rejected' || bundleResult.status === 'rejected') {
    // Stop whatever did start, so a failed set-up leaves no process behind.
    if (postgresResult.status === 'fulfilled') await postgresResult.value.stop().catch(() => undefined);
    if (temporalResult.status === 'fulfilled') await temporalResult.value.stop();
    const failed = started.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    throw failed.reason;
  }
  const [temporal, postgres, bundle] = [temporalResult.value, postgresResult.value, bundleResult.value];
  const workflowBundlePath = path.join(bundleDir, `workflow-bundle-${process.pid}.js`);
  await writeFile(workflowBundlePath, bundle.code);
  await migrate(postgres.url);

  project.provide('temporalAddress', temporal.address);
  project.provide('databaseUrl', postgres.url);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('temporalCli', cli);
  // The codec and the secrets' encryption are on in every test, as in production; each run makes its own keys.
  project.provide('payloadKeys', newKeyEntry('test-p1'));
  project.provide('secretsKeys', newKeyEntry('test-s1'));

  return async () => {
    await postgres.stop().catch(() => undefined);
    await temporal.stop();
  };
}

const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  log: () => undefined,
};
