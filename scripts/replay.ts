/**
 * Replays exported histories against the current workflow code, before a deploy:
 *   temporal workflow show -w site-visit:acme:T-1 --output json > h.json
 *   TEMPORAL_PAYLOAD_KEYS=... npm run replay -- h.json [more.json ...]
 * Encrypted payloads are decoded with TEMPORAL_PAYLOAD_KEYS (the worker's keys: any that wrote the history);
 * plain ones pass through. Exits non-zero when any history does not replay (a change that needs `patched()`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../src/config.js';
import { dataConverterOf, ENCRYPTED_ENCODING } from '../src/temporal/codec.js';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/worker/bundle-options.js';
import { WORKFLOWS_PATH } from '../src/worker/start.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : String(err));
  process.exit(2);
}
const dataConverter = dataConverterOf(config);
const ENCRYPTED_BASE64 = Buffer.from(ENCRYPTED_ENCODING).toString('base64');

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run replay -- <history.json> [...]  (from `temporal workflow show --output json`)');
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  const text = await readFile(file, 'utf8');
  if (!config.temporal.payloadKeys && text.includes(ENCRYPTED_BASE64)) {
    failed++;
    console.log(`FAIL  ${file}: its payloads are encrypted; set TEMPORAL_PAYLOAD_KEYS to the keys that wrote them`);
    continue;
  }
  const history: unknown = JSON.parse(text);
  try {
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH, bundlerOptions: WORKFLOW_BUNDLE_OPTIONS, dataConverter }, history, path.basename(file));
    console.log(`ok    ${file}`);
  } catch (err) {
    failed++;
    console.log(`FAIL  ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
console.log(`${files.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
