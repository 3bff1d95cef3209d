import type { Client } from '@temporalio/client';
import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OpsNotifier } from '../notify/notifier.js';

/** Everything activities touch, built once by the worker's composition root. */
export interface ActivityDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** The webhook HTTP dispatcher: no redirects, SSRF-guarded at connect time. */
  http: Dispatcher;
  /** Temporal client, for telling a visit's workflow about delivery progress. */
  temporal: Client;
  now: () => Date;
  /** Operational notifications (src/notify/); none when not given. */
  notifier?: OpsNotifier;
}
