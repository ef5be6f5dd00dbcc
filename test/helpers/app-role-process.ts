/**
 * One role of the App as its own OS process, as `keywarden serve` and `keywarden worker` run it
 * (`composeApp` with `role`), for the multi-process tests on PostgreSQL: settings come as JSON in
 * KW_TEST_APP_SETTINGS, the role in KW_TEST_APP_ROLE (`serve` or `worker`), the environment is the
 * process's own (KEYWARDEN_TEST_KILL_AFTER works as for the whole App). Logs go to stderr. Prints
 * `listening <url>` (serve) or `working <id>` (worker) once up.
 */
import { composeApp, type AppSettings } from '../../src/compose-app.js';
import { createAppLogger } from '../../src/server/logger.js';

const settings = JSON.parse(process.env.KW_TEST_APP_SETTINGS ?? '{}') as AppSettings;
const role = process.env.KW_TEST_APP_ROLE === 'serve' ? 'serve' : 'worker';
const app = await composeApp(settings, {
  env: process.env,
  role,
  logger: createAppLogger({ level: 'info', destination: { write: (s: string) => void process.stderr.write(s) } }),
  worker: { pollMs: Number(process.env.KW_TEST_POLL_MS ?? 200), leaseMs: Number(process.env.KW_TEST_LEASE_MS ?? 30_000), backoff: () => 100 },
});
const server = await app.start();
process.stdout.write(role === 'serve' ? `listening ${server.url}\n` : `working ${app.worker.id}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
