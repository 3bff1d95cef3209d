/**
 * Replays exported histories against the current workflow code, before a deploy:
 *   temporal workflow show -w site-visit:acme:T-1 --output json > h.json
 *   npm run replay -- h.json [more.json ...]
 * Exits non-zero when any history does not replay (a change that needs `patched()`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../src/worker/start.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run replay -- <history.json> [...]  (from `temporal workflow show --output json`)');
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  const history: unknown = JSON.parse(await readFile(file, 'utf8'));
  try {
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, path.basename(file));
    console.log(`ok    ${file}`);
  } catch (err) {
    failed++;
    console.log(`FAIL  ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
console.log(`${files.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
