/**
 * The App as its own OS process, started as `keywarden app` starts it (`startApp`: intake on the
 * main thread, the jobs on a worker thread; `KW_TEST_APP_JOBS=process|inline` for the other layouts),
 * for the crash tests and the App benchmark: settings come as JSON in KW_TEST_APP_SETTINGS, the
 * environment is the process's own. Logs go to stderr. Prints `listening <url>` once up.
 */
import { startApp, type AppSettings } from '../../src/compose-app.js';
import { createAppLogger } from '../../src/server/logger.js';

const settings = JSON.parse(process.env.KW_TEST_APP_SETTINGS ?? '{}') as AppSettings;
const level = (process.env.KW_TEST_LOG_LEVEL as 'info' | 'warn' | undefined) ?? 'info';
const app = await startApp(settings, {
  env: process.env,
  jobs: (['inline', 'process'] as const).find((j) => j === process.env.KW_TEST_APP_JOBS) ?? 'thread',
  logger: createAppLogger({ level, destination: { write: (s: string) => void process.stderr.write(s) } }),
  logTo: 'stderr',
  worker: { pollMs: Number(process.env.KW_TEST_POLL_MS ?? 20), leaseMs: Number(process.env.KW_TEST_LEASE_MS ?? 30_000), backoffMs: 100 },
});
process.stdout.write(`listening ${app.url}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
