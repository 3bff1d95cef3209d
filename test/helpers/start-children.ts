/**
 * Starts what the tests, the bench and the stack start (a Temporal dev server, an embedded Postgres), prints their
 * PIDs as one JSON line, then dies as asked: `wait` (to be killed), `throw` (an uncaught exception) or `reject`
 * (an unhandled rejection). Run by test/integration/orphans.test.ts.
 */
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { freePort, startDevServer } from '../../src/dev/local.js';

const [cli, dataDir, how] = process.argv.slice(2) as [string, string, 'wait' | 'throw' | 'reject'];
const [temporal, postgres] = await Promise.all([
  startDevServer({ cli }),
  startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' }),
]);
console.log(JSON.stringify({ devServer: temporal.child.pid, postmaster: postgres.pid, dataDir: postgres.dataDir }));
if (how === 'throw') setTimeout(() => { throw new Error('a crash'); }, 10);
if (how === 'reject') setTimeout(() => void Promise.reject(new Error('an unhandled rejection')), 10);
setInterval(() => undefined, 60_000);
