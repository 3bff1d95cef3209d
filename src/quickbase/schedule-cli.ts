/**
 * `npm run quickbase:schedule` (`node dist/quickbase/schedule-cli.js` in the image): creates or updates the Quickbase
 * sweep's schedule from the environment, as a worker does at start; `--trigger` also runs one sweep now.
 */
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { connectClient } from '../temporal/connect.js';
import { packageVersion } from '../worker.js';
import { quickbaseSweepScheduleId } from './messages.js';
import { ensureQuickbaseSweepSchedule } from './schedule.js';

const config = loadConfig(process.env, packageVersion());
const logger = createLogger({ level: config.logLevel, name: 'ssn-quickbase-schedule', version: config.serviceVersion });
const { connection, client } = await connectClient(config);
try {
  const outcome = await ensureQuickbaseSweepSchedule({ client, config, logger });
  if (outcome === 'off') process.exitCode = 2;
  else if (process.argv.includes('--trigger')) {
    await client.schedule.getHandle(quickbaseSweepScheduleId(config.temporal.taskQueue)).trigger();
    logger.info('Quickbase sweep triggered');
  }
} finally {
  await connection.close();
}
