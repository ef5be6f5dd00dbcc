/**
 * The App as its own OS process, for the crash tests: settings come as JSON in
 * KW_TEST_APP_SETTINGS, the environment is the process's own. Prints `listening <url>` once up.
 */
import { composeApp, type AppSettings } from '../../src/compose-app.js';
import { createAppLogger } from '../../src/server/logger.js';

const settings = JSON.parse(process.env.KW_TEST_APP_SETTINGS ?? '{}') as AppSettings;
const app = await composeApp(settings, {
  env: process.env,
  logger: createAppLogger({ level: (process.env.KW_TEST_LOG_LEVEL as 'info' | 'warn' | undefined) ?? 'info', destination: { write: (s: string) => void process.stderr.write(s) } }),
  worker: { pollMs: 20, leaseMs: Number(process.env.KW_TEST_LEASE_MS ?? 30_000), backoff: () => 100 },
});
const server = await app.start();
process.stdout.write(`listening ${server.url}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
