/**
 * Child processes of the local stack, the tests and the bench: each in its own process group (a terminal's Ctrl-C
 * reaches only whoever started it, who stops it in order) and each taken down when its parent dies, however it dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** `signal` (SIGTERM by default) to the child (its process group when it leads one), SIGKILL after `graceMs`. */
export async function stopProcess(
  child: ChildProcess,
  opts: { group: boolean; graceMs: number; signal?: NodeJS.Signals },
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (opts.group) process.kill(-child.pid!, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  signal(opts.signal ?? 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, opts.graceMs)))]);
  clearTimeout(timer); // or it keeps the process alive for the whole grace
  if (child.exitCode === null && child.signalCode === null) {
    signal('SIGKILL');
    await exited;
  }
}

export interface Watchdog {
  /** The child was stopped in order: the watchdog leaves without signalling anything. */
  release(): void;
}

// Reads one line from our pipe. A line means "released"; end of file means we died (the kernel closes the pipe
// whatever killed us, SIGKILL included): then the signal to the group, and SIGKILL if it is still there after 5 s.
// (No `--` before the group: dash's kill takes `-PGID` right after the signal and refuses `--`.)
const WATCHDOG = `if read -r _; then exit 0; fi
kill -"$2" "-$1" 2>/dev/null || exit 0
i=0; while [ $i -lt 25 ] && kill -0 "-$1" 2>/dev/null; do sleep 0.2; i=$((i+1)); done
kill -KILL "-$1" 2>/dev/null; exit 0`;

/**
 * Takes the process group `pgid` (a child spawned with `detached: true`) down when this process dies: a crash, an
 * unhandled rejection, or SIGKILL, which no handler of ours can see. The watchdog is a shell in a session of its
 * own (no Ctrl-C reaches it) that keeps neither our event loop nor our stdout alive.
 */
export function watchdog(pgid: number, signal: 'TERM' | 'INT' = 'TERM'): Watchdog {
  const dog = spawn('/bin/sh', ['-c', WATCHDOG, 'ssn-watchdog', String(pgid), signal], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  dog.on('error', () => undefined); // without /bin/sh there is no watchdog; stopping in order still works
  dog.stdin!.on('error', () => undefined);
  dog.unref();
  (dog.stdin as unknown as { unref(): void }).unref();
  return {
    release: () => {
      if (dog.exitCode === null && dog.signalCode === null) dog.stdin!.end('released\n');
    },
  };
}

/**
 * A child in its own process group, watched (see `watchdog`) until it exits. Listen for its 'error' (a binary that
 * cannot be run): `child.pid` is then undefined.
 */
export function spawnOwned(
  command: string,
  args: string[],
  opts: {
    stdio: ('ignore' | 'inherit' | 'pipe')[];
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    uid?: number;
    gid?: number;
    /** How it stops in order (SIGTERM by default; Postgres' fast shutdown is SIGINT). */
    stopSignal?: 'SIGTERM' | 'SIGINT';
    graceMs: number;
  },
): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(command, args, {
    stdio: opts.stdio,
    env: opts.env,
    cwd: opts.cwd,
    uid: opts.uid,
    gid: opts.gid,
    detached: true,
  });
  const dog = child.pid === undefined ? { release: () => undefined } : watchdog(child.pid, opts.stopSignal === 'SIGINT' ? 'INT' : 'TERM');
  child.once('exit', () => dog.release());
  return {
    child,
    stop: () => stopProcess(child, { group: true, graceMs: opts.graceMs, signal: opts.stopSignal ?? 'SIGTERM' }),
  };
}
