import { loadConfig } from '../config.js';
import { migrate } from './migrate.js';

const config = loadConfig();
if (!config.databaseUrl) {
  console.error('DATABASE_URL must be set to run migrations');
  process.exit(2);
}
const applied = await migrate(config.databaseUrl);
console.log(JSON.stringify({ msg: 'migrations applied', applied }));
