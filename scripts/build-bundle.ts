/**
 * The build step after `tsc` (`npm run build`): the files the compiled service needs that tsc does not emit.
 *  - dist/workflow-bundle.js: the workflow code bundled once, so a worker with WORKFLOW_BUNDLE_PATH
 *    starts without webpack and every replica runs byte-identical workflow code.
 *  - dist/db/migrations/: the SQL migrations, next to dist/db/migrate.js, which looks for them there.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/worker/bundle-options.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');

const { code } = await bundleWorkflowCode({
  workflowsPath: path.join(ROOT, 'src/workflows/index.ts'),
  logger: new DefaultLogger('WARN'), // webpack's module list is noise in a build log
  ...WORKFLOW_BUNDLE_OPTIONS, // the workflow modules shared by every cached workflow
});
await mkdir(DIST, { recursive: true });
const bundlePath = path.join(DIST, 'workflow-bundle.js');
await writeFile(bundlePath, code);
console.error(`wrote ${path.relative(ROOT, bundlePath)} (${Math.round(code.length / 1024)} KiB)`);

await cp(path.join(ROOT, 'src/db/migrations'), path.join(DIST, 'db/migrations'), { recursive: true });
console.error('copied src/db/migrations to dist/db/migrations');
