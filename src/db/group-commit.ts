/**
 * Natural batching ("group commit") for hot-path statements: whatever arrives while a flush is in flight goes
 * out together in the next one. Under load many callers share one round trip and one commit; when idle,
 * nobody waits for anyone. Each caller's promise settles with its batch: with its own result once the batch
 * is committed, or with the batch's error (the caller then goes on its own, so one bad row cannot sink others).
 */
export class GroupCommit<T, R = void> {
  private queue: { item: T; resolve: (result: R) => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;

  /** `flush` runs one statement for all `items` and returns their results in the same order. */
  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 64,
  ) {}

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      // After this turn's I/O callbacks, so calls made together start out together.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const results = await this.flush(batch.map((w) => w.item));
        if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} returned ${results.length} results`);
        batch.forEach((w, i) => w.resolve(results[i]!));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.flushing = false;
  }
}
