/**
 * How the workflow code is bundled, the same for every bundle: the worker's own (workflowsPath), the image's
 * dist/workflow-bundle.js (scripts/build-bundle.ts), the tests' and the benchmark's.
 *
 * With the reused V8 context (the SDK's default), every module a workflow imports is evaluated again for each
 * workflow the worker caches (its functions, classes, constants and regular expressions, about 0.1 MiB per
 * visit for ours and the SDK's), unless the module is preloaded: evaluated once when the context starts, then
 * shared by every workflow, its exports frozen. A module may be preloaded only if it keeps no state of its own
 * at module level (no `let`, no module-level Map or array that code changes): workflow state lives in the
 * workflow function's scope and the SDK's per-workflow activator, never in a module. test/unit/bundle-options.test.ts
 * checks our modules for it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The modules shared by every workflow: the SDK's workflow API (the rest of the SDK is shared already: the SDK
 * loads it before any workflow), and all of ours through the workflows' index (`.js` resolves to `.ts` in src).
 */
export const PRELOADED_WORKFLOW_MODULES = ['@temporalio/workflow', path.join(SRC, 'workflows', 'index.js')];

export const WORKFLOW_BUNDLE_OPTIONS = { preloadModules: PRELOADED_WORKFLOW_MODULES } satisfies Partial<BundleOptions>;
