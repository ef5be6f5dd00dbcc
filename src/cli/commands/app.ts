/**
 * `keywarden app`: runs the GitHub App — the webhook server and the job workers — until SIGINT or
 * SIGTERM (graceful: the server stops taking deliveries, running jobs finish, what is queued stays
 * queued for the next start). Settings come from the environment: `APP_ID`, `PRIVATE_KEY` or
 * `PRIVATE_KEY_PATH`, `WEBHOOK_SECRET` (and `WEBHOOK_SECRET_PREVIOUS` during a rotation), `PORT`,
 * `HOST`, `GITHUB_API_URL`, `KEYWARDEN_STATE_DIR`, and the backend's (`KEYWARDEN_BACKEND`, …).
 * `npm start` runs this.
 *
 * At org scale the two halves run apart, on PostgreSQL (`KEYWARDEN_DATABASE_URL`):
 * `keywarden serve` takes webhooks (stateless: any number of replicas behind a load balancer) and
 * `keywarden worker` drains the queue (any number of processes on any number of machines).
 */
import type { Command } from 'commander';
import { ErrorCode, KeywardenError } from '../../errors.js';
import type { CliIO } from '../main.js';

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerAppCommand(program: Command, io: CliIO): void {
  program
    .command('app')
    .description('Run the GitHub App: the webhook server (POST /api/github/webhooks, /healthz, /readyz, /metrics) and the job workers.')
    .option('--port <n>', 'port to listen on (default PORT or 3000)')
    .option('--host <addr>', 'address to listen on (default HOST or 0.0.0.0)')
    .option('--jobs <where>', 'thread (default): jobs on a worker thread, so no job delays a webhook answer; process: a child process; inline: one event loop')
    .action(async (flags: { port?: string; host?: string; jobs?: string }) => {
      const { appSettingsFromEnv, startApp } = await import('../../compose-app.js');
      const env = io.env ?? process.env;
      const settings = appSettingsFromEnv(env, io.cwd ?? process.cwd());
      if (flags.port !== undefined) settings.port = Number(flags.port);
      if (flags.host !== undefined) settings.host = flags.host;
      const jobs = flags.jobs ?? env.KEYWARDEN_APP_JOBS ?? 'thread';
      if (jobs !== 'process' && jobs !== 'thread' && jobs !== 'inline') {
        throw new KeywardenError(ErrorCode.APP_CONFIG_INVALID, `--jobs must be process, thread or inline, not ${JSON.stringify(jobs.slice(0, 40))}.`, { fault: 'user' });
      }
      const app = await startApp(settings, { env, jobs });
      app.logger.info({ url: app.url, stateDir: settings.stateDir, store: settings.databaseUrl ? 'postgres' : 'sqlite', jobs }, 'Keywarden App listening');
      await untilSignal();
      app.logger.info({}, 'Keywarden App stopping');
      await app.close();
    });

  program
    .command('serve')
    .description('Run only the webhook intake (POST /api/github/webhooks, /healthz, /readyz, /metrics); `keywarden worker` processes run the jobs. Stateless with KEYWARDEN_DATABASE_URL: run any number.')
    .option('--port <n>', 'port to listen on (default PORT or 3000)')
    .option('--host <addr>', 'address to listen on (default HOST or 0.0.0.0)')
    .action(async (flags: { port?: string; host?: string }) => {
      const { appSettingsFromEnv, composeApp } = await import('../../compose-app.js');
      const env = io.env ?? process.env;
      const settings = appSettingsFromEnv(env, io.cwd ?? process.cwd());
      if (flags.port !== undefined) settings.port = Number(flags.port);
      if (flags.host !== undefined) settings.host = flags.host;
      const app = await composeApp(settings, { env, role: 'serve' });
      const server = await app.start();
      app.logger.info({ url: server.url, store: settings.databaseUrl ? 'postgres' : 'sqlite', role: 'serve' }, 'Keywarden intake listening');
      await untilSignal();
      app.logger.info({ role: 'serve' }, 'Keywarden intake stopping');
      await app.close();
    });

  program
    .command('worker')
    .description('Run only the job workers: drain the queue that `keywarden serve` fills (with KEYWARDEN_DATABASE_URL, any number of processes on any number of machines). No webhook secret needed.')
    .option('--concurrency <n>', 'jobs at once in this process (default KEYWARDEN_APP_CONCURRENCY or 16)')
    .action(async (flags: { concurrency?: string }) => {
      const { appSettingsFromEnv, composeApp } = await import('../../compose-app.js');
      const env = io.env ?? process.env;
      const settings = appSettingsFromEnv(env, io.cwd ?? process.cwd(), { role: 'worker' });
      if (flags.concurrency !== undefined) {
        const n = Number(flags.concurrency);
        if (!Number.isInteger(n) || n < 1 || n > 256) throw new KeywardenError(ErrorCode.APP_CONFIG_INVALID, '--concurrency must be a whole number from 1 to 256.', { fault: 'user' });
        settings.concurrency = n;
      }
      const app = await composeApp(settings, { env, role: 'worker' });
      await app.start();
      app.logger.info({ worker: app.worker.id, concurrency: settings.concurrency, store: settings.databaseUrl ? 'postgres' : 'sqlite', role: 'worker' }, 'Keywarden worker running');
      await untilSignal();
      app.logger.info({ worker: app.worker.id, role: 'worker' }, 'Keywarden worker stopping');
      await app.close();
    });
}
