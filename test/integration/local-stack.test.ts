/**
 * `npm start` as a terminal runs it: its own process group, and Ctrl-C as SIGINT to the whole group (npm, the
 * shell and node get it at once; npm passes it on once more). It stops everything, in order, within seconds, and
 * starts again. On ports and a data folder of its own, so it runs beside anyone's stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/local.js';
import '../provided.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const UP = 'SSN site-visit service is up';

/** A process's parent and state from /proc; undefined once it is gone. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Every process below `root` (the dev server, Postgres, node, the watchdogs...), with their command lines. */
function descendants(root: number): Map<number, string> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    const stat = Number.isInteger(pid) ? procStat(pid) : undefined;
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const found = new Map<number, string>();
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.set(child, readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120));
      visit(child);
    }
  };
  visit(root);
  return found;
}

const running = (pid: number) => {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
};

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

interface Started {
  npm: ChildProcess;
  output: () => string;
  exited: Promise<unknown>;
}

describe.runIf(process.platform === 'linux')('npm start in a terminal', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ssn-stack-'));
  const leftovers = new Set<number>();
  let ports: Record<'temporal' | 'ui' | 'postgres' | 'http' | 'metrics', number>;

  const runs: Started[] = [];

  afterAll(() => {
    // Only when a step failed: whatever the stack left running.
    for (const { npm } of runs) for (const pid of [npm.pid!, ...descendants(npm.pid!).keys()]) leftovers.add(pid);
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
    for (const started of runs) {
      const moved = /^Postgres data in (\S+) /m.exec(started.output())?.[1];
      if (moved) rmSync(moved, { recursive: true, force: true }); // as root: the postgres user cannot reach dataDir
    }
  });

  async function start(): Promise<Started> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_CLI: inject('temporalCli'),
      LOCAL_DATA_DIR: dataDir,
      LOCAL_TEMPORAL_PORT: String(ports.temporal),
      LOCAL_TEMPORAL_UI_PORT: String(ports.ui),
      LOCAL_POSTGRES_PORT: String(ports.postgres),
      HTTP_PORT: String(ports.http),
      TEMPORAL_METRICS_BIND: `127.0.0.1:${ports.metrics}`,
      LOG_LEVEL: 'info',
    };
    delete env.TEMPORAL_ADDRESS; // the stack starts its own of both
    delete env.DATABASE_URL;
    // detached: a process group of its own, led by npm, as a terminal's foreground job is.
    const npm = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const run = { npm, output: () => output, exited: new Promise((resolve) => npm.once('exit', resolve)) };
    runs.push(run);
    await waitFor(() => output.includes('Press Ctrl-C') || npm.exitCode !== null, { timeoutMs: 240_000, intervalMs: 200, what: 'the stack' });
    expect(output, output).toContain(UP);
    return run;
  }

  /** Ctrl-C: SIGINT to the foreground process group, as the terminal sends it. */
  async function ctrlC(stack: Started): Promise<void> {
    const tree = descendants(stack.npm.pid!);
    for (const pid of tree.keys()) leftovers.add(pid);
    expect([...tree.values()].some((cmd) => cmd.includes('temporal server start-dev')), [...tree.values()].join('\n')).toBe(true);
    expect([...tree.values()].some((cmd) => cmd.includes('bin/postgres')), [...tree.values()].join('\n')).toBe(true);
    const since = Date.now();
    process.kill(-stack.npm.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([stack.exited.then(() => true), new Promise((resolve) => (timer = setTimeout(resolve, 20_000, false)))]);
    clearTimeout(timer);
    expect(exited, `npm start still running 20 s after Ctrl-C:\n${stack.output().slice(-2000)}`).toBe(true);
    expect(Date.now() - since).toBeLessThan(15_000);
    expect(stack.output()).toContain('Stopped.');
    await waitFor(() => [...tree.keys(), stack.npm.pid!].every((pid) => !running(pid)), {
      timeoutMs: 10_000,
      what: `every process of the stack to go: ${[...tree].filter(([pid]) => running(pid)).map(([pid, cmd]) => `${pid} ${cmd}`).join('; ')}`,
    });
    for (const port of Object.values(ports)) expect(await portIsFree(port), `port ${port}`).toBe(true);
  }

  it('stops everything on Ctrl-C within seconds, and starts again', async () => {
    ports = { temporal: await freePort(), ui: await freePort(), postgres: await freePort(), http: await freePort(), metrics: await freePort() };
    const first = await start();
    // A quiet start: the bundle's size at info, not webpack's module list.
    const beforeBox = first.output().slice(0, first.output().indexOf(UP));
    expect(beforeBox).toContain('Workflow bundle created');
    expect(beforeBox).not.toMatch(/webpack [\d.]+ compiled|modules by path/);
    await ctrlC(first);

    const second = await start();
    await ctrlC(second);
  }, 600_000);
});
