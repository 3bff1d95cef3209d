/** Sends one operational notification to one of OPS_NOTIFY_URLS, signed; Temporal retries it. */
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { SendOpsNotificationInput } from '../notify/messages.js';
import { notificationBody, signNotification } from '../notify/text.js';

const POST_TIMEOUT_MS = 10_000;

export function createOpsNotifyActivities(deps: { config: Config; logger: Logger; now: () => Date }) {
  const log = deps.logger.child({ component: 'ops-notify' });
  return {
    async sendOpsNotification(input: SendOpsNotificationInput): Promise<void> {
      const { notifyUrls, notifySecret } = deps.config.ops;
      const url = notifyUrls[input.target];
      if (url === undefined || notifySecret === undefined) return; // this worker's configuration has fewer targets
      const body = notificationBody(input.condition, input.suppressed);
      const headers = { 'content-type': 'application/json', ...signNotification(notifySecret, Math.floor(deps.now().getTime() / 1000), body) };
      const about = { kind: input.condition.kind, clientId: input.condition.clientId, target: input.target };
      let status: number;
      try {
        const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(POST_TIMEOUT_MS) });
        status = res.status;
        await res.body?.cancel();
      } catch (err) {
        log.warn({ ...about, error: (err as Error).name }, 'operational notification not sent: retrying');
        throw ApplicationFailure.create({ type: 'OpsNotificationUnavailable', message: `notification target ${input.target} did not answer` });
      }
      if (status >= 200 && status < 300) {
        log.info({ ...about, status }, 'operational notification sent');
        return;
      }
      const retryable = status >= 500 || status === 408 || status === 429;
      log.warn({ ...about, status }, retryable ? 'operational notification refused: retrying' : 'operational notification refused');
      throw ApplicationFailure.create({
        type: retryable ? 'OpsNotificationUnavailable' : 'OpsNotificationRefused',
        message: `notification target ${input.target} answered ${status}`,
        nonRetryable: !retryable,
      });
    },
  };
}
