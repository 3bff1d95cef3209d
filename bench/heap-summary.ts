/**
 * What grew between two V8 heap snapshots (bench/memory.ts --snapshot writes them): self sizes summed by node
 * type and constructor or name, the largest differences first. `node --import tsx bench/heap-summary.ts A B [N]`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** `type: name` -> [count, self bytes]. */
export function heapByKind(file: string): Map<string, [number, number]> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const kinds = new Map<string, [number, number]>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]!]!;
    // Strings and code are many small, differently named nodes: one line each kind.
    const name = ['string', 'concatenated string', 'sliced string', 'number', 'code'].includes(type)
      ? ''
      : snap.strings[snap.nodes[i + nameAt]!]!.slice(0, 60);
    const key = `${type}: ${name}`;
    const kind = kinds.get(key) ?? [0, 0];
    kind[0]++;
    kind[1] += snap.nodes[i + sizeAt]!;
    kinds.set(key, kind);
  }
  return kinds;
}

function main(): void {
  const [before, after, topArg] = process.argv.slice(2);
  if (!before || !after) throw new Error('usage: heap-summary.ts BEFORE.heapsnapshot AFTER.heapsnapshot [top N]');
  const a = heapByKind(before);
  const b = heapByKind(after);
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
    const [c0, s0] = a.get(key) ?? [0, 0];
    const [c1, s1] = b.get(key) ?? [0, 0];
    return { key, count: c1 - c0, bytes: s1 - s0 };
  });
  rows.sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`${path.basename(before)} -> ${path.basename(after)}: ${(total / 1024 / 1024).toFixed(1)} MiB more self size`);
  for (const r of rows.slice(0, Number(topArg ?? 40)))
    console.log(`${(r.bytes / 1024).toFixed(0).padStart(9)} KiB ${String(r.count).padStart(8)}  ${r.key}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) main();
