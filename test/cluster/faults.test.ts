/**
 * Faults the production shape must survive, each while visits are driven through both API processes, each ending
 * with every event delivered at least once, in order per visit, signatures valid and no change lost
 * (harness.expectSettled), and each printing its figures.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, type ReceivedRequest } from '../helpers/receiver.js';
import { waitFor } from '../helpers/wait.js';
import { apiUrls, call, control, Driver, driveVisits, expectSettled, registerClient, type RegisteredClient } from './harness.js';

/** Slow enough that deliveries are in flight when a fault strikes. */
const RECEIVER_DELAY_MS = 150;

let receiver: Receiver;
/** Requests of receivers closed by the receiver-down test, so they still count. */
const earlier: ReceivedRequest[] = [];
const requests = () => [...earlier, ...receiver.requests];
let client: RegisteredClient;

const seconds = (sinceMs: number) => Math.round((performance.now() - sinceMs) / 100) / 10;

/** Resolves once the receiver got `count` more requests: the cluster is making progress. */
const progress = (count: number, timeoutMs = 120_000) => {
  const target = requests().length + count;
  return waitFor(() => requests().length >= target, { timeoutMs, intervalMs: 50, what: `${count} more webhook requests` });
};

beforeAll(async () => {
  receiver = await Receiver.start();
  receiver.respond(() => ({ status: 200, delayMs: RECEIVER_DELAY_MS }));
  client = await registerClient('faults', `${receiver.url}/hooks`);
});

afterAll(async () => {
  await receiver?.close();
});

describe('the cluster under faults', () => {
  it('a worker SIGKILLed mid-delivery, repeatedly (each worker in turn), while visits go through both APIs', async () => {
    const driver = new Driver();
    let kills = 0;
    let midDelivery = 0;
    let faultsEndedAt = Date.now();
    const visits = await driveVisits({
      driver,
      client,
      count: 16,
      parallel: 4,
      prefix: 'kill',
      during: async (driving) => {
        for (let round = 0; round < 4 && driving(); round++) {
          const victim = round % 2;
          await waitFor(() => receiver.inFlight > 0 || !driving(), { timeoutMs: 120_000, intervalMs: 10, what: 'a delivery in flight' });
          if (!driving()) break;
          if (receiver.inFlight > 0) midDelivery++;
          await control('worker/kill', victim);
          kills++;
          // The survivor carries on alone before the killed one comes back.
          await progress(3);
          await control('worker/start', victim);
        }
        faultsEndedAt = Date.now();
      },
    });
    expect(kills).toBeGreaterThanOrEqual(2);
    await expectSettled({ test: 'worker SIGKILL mid-delivery', requests, client, visits, driver, faults: kills, faultsEndedAt, extra: { killsMidDelivery: midDelivery } });
  });

  it('the Temporal server SIGKILLed and restarted mid-run', async () => {
    const driver = new Driver();
    let downSeconds = 0;
    let faultsEndedAt = Date.now();
    const visits = await driveVisits({
      driver,
      client,
      count: 10,
      parallel: 4,
      prefix: 'temporal',
      during: async () => {
        await progress(10);
        const down = performance.now();
        await control('temporal/kill');
        await control('temporal/start'); // resolves once it answers again
        downSeconds = seconds(down);
        faultsEndedAt = Date.now();
      },
    });
    await expectSettled({ test: 'Temporal server SIGKILL + restart', requests, client, visits, driver, faults: 1, faultsEndedAt, extra: { serverDownSeconds: downSeconds } });
  });

  it("the service's Postgres (which also holds Temporal's databases, as in docker-compose.yml) restarted mid-run", async () => {
    const driver = new Driver();
    let downSeconds = 0;
    let faultsEndedAt = Date.now();
    const visits = await driveVisits({
      driver,
      client,
      count: 10,
      parallel: 4,
      prefix: 'postgres',
      during: async () => {
        await progress(10);
        const down = performance.now();
        await control('postgres/restart');
        downSeconds = seconds(down);
        faultsEndedAt = Date.now();
      },
    });
    await expectSettled({ test: 'Postgres restart', requests, client, visits, driver, faults: 1, faultsEndedAt, extra: { postgresDownSeconds: downSeconds } });
  });

  it('the webhook receiver down for a while, then back on the same address', async () => {
    const driver = new Driver();
    let downSeconds = 0;
    let faultsEndedAt = Date.now();
    const visits = await driveVisits({
      driver,
      client,
      count: 8,
      parallel: 4,
      prefix: 'receiver',
      during: async (driving) => {
        await progress(5);
        const port = Number(new URL(receiver.url).port);
        const down = performance.now();
        earlier.push(...receiver.requests);
        await receiver.close();
        // Down until every change was taken and deliveries have failed against it for a few seconds.
        await waitFor(() => !driving(), { timeoutMs: 240_000, intervalMs: 100, what: 'the visits driven' });
        await waitFor(() => performance.now() - down > 5_000, { timeoutMs: 10_000, intervalMs: 100, what: 'five seconds down' });
        receiver = await Receiver.start({ port });
        receiver.respond(() => ({ status: 200, delayMs: RECEIVER_DELAY_MS }));
        downSeconds = seconds(down);
        faultsEndedAt = Date.now();
      },
    });
    await expectSettled({ test: 'webhook receiver down, then back', requests, client, visits, driver, faults: 1, faultsEndedAt, extra: { receiverDownSeconds: downSeconds } });
  });

  it('one API process stopped: the other keeps serving, then it comes back', async () => {
    const [first, second] = apiUrls() as [string, string];
    const driver = new Driver();
    let faultsEndedAt = Date.now();
    let servedBySecond = 0;
    let failedOnSecond = 0;
    const visits = await driveVisits({
      driver,
      client,
      count: 8,
      parallel: 4,
      prefix: 'api',
      during: async (driving) => {
        await progress(5);
        await control('api/stop', 0); // SIGTERM: in-flight requests finish
        const before = driver.answeredBy.get(second) ?? 0;
        // While it is down, the other answers everything (the driver's own retries go there).
        const probe = async () => {
          while (driving()) {
            const res = await call(second, 'GET', '/readyz');
            if (res.status === 200) servedBySecond++;
            else failedOnSecond++;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        };
        await Promise.all([probe(), waitFor(() => (driver.answeredBy.get(second) ?? 0) >= before + 20 || !driving(), { timeoutMs: 240_000, intervalMs: 50, what: '20 answers from the remaining API' })]);
        expect(await call(first, 'GET', '/readyz').then(() => 'answered', () => 'refused')).toBe('refused');
        await control('api/start', 0);
        faultsEndedAt = Date.now();
      },
    });
    expect(failedOnSecond).toBe(0);
    expect((await call(first, 'GET', '/readyz')).status).toBe(200);
    await expectSettled({
      test: 'one API process stopped',
      requests,
      client,
      visits,
      driver,
      faults: 1,
      faultsEndedAt,
      extra: { readyzOkOnOther: servedBySecond, answeredByOther: driver.answeredBy.get(second) ?? 0 },
    });
  });
});
