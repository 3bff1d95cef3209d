import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/db/group-commit.js';

/** A flush the test releases by hand, so it decides what arrives while one is in flight. */
function gatedFlush() {
  const calls: number[][] = [];
  const gates: (() => void)[] = [];
  const flush = async (items: number[]) => {
    calls.push(items);
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((n) => n * 10);
  };
  const releaseNext = async () => {
    while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
    gates.shift()!();
  };
  return { calls, flush, releaseNext };
}

describe('GroupCommit', () => {
  it('sends what arrives while a flush is in flight together in the next flush, each caller getting its own result', async () => {
    const { calls, flush, releaseNext } = gatedFlush();
    const group = new GroupCommit(flush);
    const first = group.add(1);
    await new Promise((resolve) => setImmediate(resolve)); // the first flush starts alone
    const later = [group.add(2), group.add(3), group.add(4)];
    await releaseNext();
    expect(await first).toBe(10);
    await releaseNext();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
    expect(calls).toEqual([[1], [2, 3, 4]]);
  });

  it('batches calls made in the same turn', async () => {
    const calls: number[][] = [];
    const group = new GroupCommit(async (items: number[]) => {
      calls.push(items);
      return items;
    });
    expect(await Promise.all([1, 2, 3].map((n) => group.add(n)))).toEqual([1, 2, 3]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('never sends more than maxBatch items at once', async () => {
    const calls: number[][] = [];
    const group = new GroupCommit(async (items: number[]) => {
      calls.push(items);
      return items;
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => group.add(n)));
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('rejects only the callers of a failed flush; the next batch goes on', async () => {
    let fail = true;
    const group = new GroupCommit(async (items: number[]) => {
      if (fail) {
        fail = false;
        throw new Error('statement failed');
      }
      return items;
    });
    const failed = await Promise.allSettled([group.add(1), group.add(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await group.add(3)).toBe(3);
  });

  it('rejects a batch whose flush returns the wrong number of results, rather than misrouting them', async () => {
    const group = new GroupCommit(async (items: number[]) => items.slice(1));
    await expect(Promise.all([group.add(1), group.add(2)])).rejects.toThrow('a batch of 2 returned 1 results');
  });
});
