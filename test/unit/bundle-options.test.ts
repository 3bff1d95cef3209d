/**
 * The workflow bundle the tests run (built by test/global-setup.ts with WORKFLOW_BUNDLE_OPTIONS, as every bundle
 * is): no module is evaluated per cached workflow, and the modules of ours that every workflow then shares keep no
 * state of their own at module level (src/worker/bundle-options.ts says why).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Webpack's modules by ID (`./src/messages.ts`), each with the IDs it requires; the entrypoint's code is not one. */
function modulesOf(code: string): Map<string, Set<string>> {
  const end = entrypointOf(code).index;
  const heads = [...code.slice(0, end).matchAll(/^\/\*\*\*\/ "([^"]+)"\n/gm)];
  const modules = new Map<string, Set<string>>();
  heads.forEach((head, i) => {
    const body = code.slice(head.index + head[0].length, heads[i + 1]?.index ?? end);
    modules.set(head[1]!, requiredBy(body));
  });
  return modules;
}

const requiredBy = (text: string) => new Set([...text.matchAll(/__webpack_require__\(\/\*[^*]*\*\/ (?:\/\*![^*]*\*\/ )?"([^"]+)"\)/g)].map((m) => m[1]!));

/** What the bundle's entrypoint loads before any workflow exists: the SDK's runtime and the preloaded modules. */
function loadedAtStart(code: string): string[] {
  return [...requiredBy(entrypointOf(code)[0])];
}

/** The entrypoint's code up to `importWorkflows` (what each workflow loads when it starts). */
function entrypointOf(code: string): RegExpExecArray {
  const entrypoint = /^const api = __webpack_require__[\s\S]*?^exports\.importWorkflows/m.exec(code);
  if (!entrypoint) throw new Error('the entrypoint of the workflow bundle was not found');
  return entrypoint;
}

function reachable(modules: Map<string, Set<string>>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(modules.get(id) ?? []));
  }
  return seen;
}

describe('the workflow bundle', () => {
  const code = readFileSync(inject('workflowBundlePath'), 'utf8');
  const modules = modulesOf(code);

  it('evaluates every module once per V8 context: none is left to evaluate again for each cached workflow', () => {
    expect(modules.size).toBeGreaterThan(50);
    expect(modules.has('./src/workflows/visit-run.ts')).toBe(true);
    const shared = reachable(modules, loadedAtStart(code));
    expect([...modules.keys()].filter((id) => !shared.has(id))).toEqual([]);
  });

  it('shares modules of ours that keep no mutable state at module level', () => {
    const ours = [...modules.keys()].filter((id) => id.startsWith('./src/'));
    expect(ours.length).toBeGreaterThan(10);
    // At column 0, so only module-level declarations: a `let`/`var`, or a const holding a collection code could change.
    const mutable = /^(export )?(let|var) |^(export )?const \w+(: [^=]+)? = (new (Map|Set|WeakMap|WeakSet|Array)\b|\[\]|\{\})/m;
    const offenders = ours.filter((id) => mutable.test(readFileSync(path.join(ROOT, id), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
