/**
 * `keywarden app`: runs the GitHub App — the webhook server and the job workers — until SIGINT or
 * SIGTERM (graceful: the server stops taking deliveries, running jobs finish, what is queued stays
 * queued for the next start). Settings come from the environment: `APP_ID`, `PRIVATE_KEY` or
 * `PRIVATE_KEY_PATH`, `WEBHOOK_SECRET` (and `WEBHOOK_SECRET_PREVIOUS` during a rotation), `PORT`,
 * `HOST`, `GITHUB_API_URL`, `KEYWARDEN_STATE_DIR`, and the backend's (`KEYWARDEN_BACKEND`, …).
 * `npm start` runs this.
 */
import type { Command } from 'commander';
import { ErrorCode, KeywardenError } from '../../errors.js';
import type { CliIO } from '../main.js';

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
      app.logger.info({ url: app.url, stateDir: settings.stateDir, jobs }, 'Keywarden App listening');
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      app.logger.info({}, 'Keywarden App stopping');
      await app.close();
    });
}
