import type { NoopActivityInput } from './baseline-messages.js';

/** The baseline's one activity: does nothing but tell the bench when it ran (performance.now(), same process). */
export function createBaselineActivities(record: (key: string, startedAt: number, finishedAt: number) => void) {
  return {
    async benchNoop(input: NoopActivityInput): Promise<void> {
      const startedAt = performance.now();
      record(input.key, startedAt, performance.now());
    },
  };
}
