import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { dataConverterOf, ENCRYPTED_ENCODING } from '../../src/temporal/codec.js';
import '../provided.js';

/**
 * Replays a recorded history of a whole visit (create, rep, schedule, reschedule, dispatch, QA failed then
 * passed, deliverables, completion) against the current workflow code. A change to the workflow that is not
 * replay-safe (without `patched()`) fails here, before it can break open visits in production.
 * Re-record with `RECORD_HISTORY=1 npx vitest run test/integration/site-visit.test.ts` only for a deliberate,
 * patched change, and keep the old file as well.
 */
describe('replay', () => {
  it('replays the committed history of a full visit with the current workflow code', async () => {
    const file = path.resolve(import.meta.dirname, '../fixtures/full-visit-history.json');
    const history = JSON.parse(await readFile(file, 'utf8')) as { events: { eventType: string }[] };
    expect(history.events.length).toBeGreaterThan(20);
    expect(history.events.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED').length).toBe(8);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, 'full-visit');
  });

  // Recorded with the durable-intake code: records out of order and twice, a whole lifecycle by signals; and an
  // async change the lifecycle refused (the rejection's search attribute and local activity).
  it.each([
    ['intake-visit-history.json', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', 6],
    ['intake-rejection-history.json', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', 2],
  ])('replays the committed intake history %s', async (name, eventType, count) => {
    const history = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../fixtures', name), 'utf8')) as { events: { eventType: string }[] };
    expect(history.events.filter((e) => e.eventType === eventType)).toHaveLength(count);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, name);
  });

  // Recorded with tracing on (test/integration/tracing.test.ts, RECORD_HISTORY=1): the otel-event-trace-v1 patch
  // marker, trace headers on the update, signal and activities; replayed here by the untraced test bundle.
  it('replays the committed traced history traced-visit-history.json', async () => {
    const text = await readFile(path.resolve(import.meta.dirname, '../fixtures/traced-visit-history.json'), 'utf8');
    type Marker = { details: { 'patch-data': { payloads: { data: string }[] } } };
    const history = JSON.parse(text) as { events: { eventType: string; markerRecordedEventAttributes?: Marker }[] };
    expect(text).toContain('_tracer-data');
    expect(history.events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')).toHaveLength(4);
    const patches = history.events
      .filter((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED')
      .map((e) => (JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details['patch-data'].payloads[0]!.data, 'base64').toString('utf8')) as { id: string }).id);
    expect(patches.sort()).toEqual(['durable-intake-v1', 'otel-event-trace-v1']);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, 'traced-visit');
  });

  // Recorded with the local first attempt (test/integration/delivery.test.ts, 'hands a failed first attempt ...'):
  // ticket.created delivered by a local activity, rep.assigned's local attempt answered 503, then the regular activity.
  // local-registration-history.json: the same visit, recorded once the registration was a local activity too.
  it.each([
    ['local-first-attempt-history.json', 2],
    ['local-registration-history.json', 3],
  ])('replays the committed history %s of local first attempts, one handed on to the regular activity', async (name, localActivities) => {
    const file = path.resolve(import.meta.dirname, '../fixtures', name);
    const history = JSON.parse(await readFile(file, 'utf8')) as {
      events: { eventType: string; markerRecordedEventAttributes?: { markerName?: string }; activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
    };
    const markers = history.events.map((e) => e.markerRecordedEventAttributes?.markerName).filter((name) => name !== undefined);
    expect(markers.filter((name) => name === 'core_local_activity')).toHaveLength(localActivities);
    expect(history.events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverEvent')).toHaveLength(1);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, name);
  });

  // Recorded with the payload codec on, across a key rotation (test/integration/encryption.test.ts): payloads under
  // rec-k1 until the rotation, rec-k2 after. The keys are the fixture's own (encrypted-visit-keys.json).
  it('replays the committed encrypted history (two payload keys) with the codec, and not without it', async () => {
    const history = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../fixtures/encrypted-visit-history.json'), 'utf8')) as {
      events: { eventType: string }[];
    };
    const keys = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../fixtures/encrypted-visit-keys.json'), 'utf8')) as { after: string };
    const text = JSON.stringify(history);
    expect(text).toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
    for (const keyId of ['rec-k1', 'rec-k2']) expect(text).toContain(Buffer.from(keyId).toString('base64'));
    expect(history.events.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED').length).toBe(7);
    const bundle = { codePath: inject('workflowBundlePath') };
    const dataConverter = dataConverterOf(loadConfig({ TEMPORAL_PAYLOAD_KEYS: keys.after }));
    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, history, 'encrypted-visit');
    // Without the codec the worker cannot read a single payload: the history really is encrypted.
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, 'encrypted-visit-no-codec')).rejects.toThrow();
  });
});
