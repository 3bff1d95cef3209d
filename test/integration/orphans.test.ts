/**
 * Whatever starts a dev server or an embedded Postgres takes it down when it dies, however it dies: nothing of a
 * run is left holding its ports or its output.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, inject, it } from 'vitest';
import '../provided.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Alive, and not a zombie waiting for its new parent to reap it. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe.runIf(process.platform === 'linux')('children of a process that dies', () => {
  const scratch: string[] = [];
  afterAll(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['is killed with SIGKILL', 'wait'],
    ['crashes', 'throw'],
    ['has an unhandled rejection', 'reject'],
  ] as const)('go down within seconds when it %s', async (_, how) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ssn-orphans-'));
    scratch.push(dir);
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test/helpers/start-children.ts'), inject('temporalCli'), path.join(dir, 'pg'), how],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    parent.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => parent.once('exit', resolve));
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: parent.stdout }).once('line', resolve);
      parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before starting its children: ${stderr}`)));
    });
    const children = JSON.parse(firstLine) as { devServer: number; postmaster: number; dataDir: string };
    scratch.push(children.dataDir);
    expect(isRunning(children.devServer) && isRunning(children.postmaster)).toBe(true);

    if (how === 'wait') parent.kill('SIGKILL');
    await exited;
    if (how !== 'wait') expect(stderr).toContain(how === 'throw' ? 'a crash' : 'an unhandled rejection');
    await waitFor(() => !isRunning(children.devServer) && !isRunning(children.postmaster), {
      timeoutMs: 10_000,
      what: `the dev server (${children.devServer}) and Postgres (${children.postmaster}) to go`,
    });
  }, 120_000);
});
