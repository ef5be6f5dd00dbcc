/**
 * The `keywarden` command. This is the one place that turns errors into exit codes:
 * 0 clean, 1 something was found (or a check failed), 2 usage or configuration error,
 * 3 a backend or internal failure, 4 (respond) acted, but some step failed.
 */
import { Command, CommanderError } from 'commander';
import { isKeywardenError, type KeywardenError } from '../errors.js';
import { VERSION } from '../version.js';

export const ExitCode = { OK: 0, FOUND: 1, USAGE: 2, FAILURE: 3, PARTIAL: 4 } as const;

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin?: NodeJS.ReadableStream;
  isTTY?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

type Register = (program: Command, io: CliIO, setExit: (code: number) => void) => void;

// Command groups load on demand: `keywarden scan` never pays for the AWS SDK, the PKCS#11
// binding or the policy schema compiler. Top-level help loads them all.
const GROUPS: Record<string, () => Promise<Register>> = {
  scan: () => import('./commands/scan.js').then((m) => m.registerScanCommand),
  keys: () => import('./commands/keys.js').then((m) => m.registerKeysCommand),
  audit: () => import('./commands/audit.js').then((m) => m.registerAuditCommand),
  policy: () => import('./commands/policy.js').then((m) => m.registerPolicyCommand),
  respond: () => import('./commands/respond.js').then((m) => m.registerRespondCommand),
  hook: () => import('./commands/hook.js').then((m) => m.registerHookCommand),
  app: () => import('./commands/app.js').then((m) => m.registerAppCommand),
  serve: () => import('./commands/app.js').then((m) => m.registerAppCommand),
  worker: () => import('./commands/app.js').then((m) => m.registerAppCommand),
  db: () => import('./commands/db.js').then((m) => m.registerDbCommand),
  baseline: () => import('./commands/baseline.js').then((m) => m.registerBaselineCommand),
  check: () => import('./commands/check.js').then((m) => m.registerCheckCommand),
};

export async function createProgram(io: CliIO, setExit: (code: number) => void, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('keywarden')
    .description('Policy-as-code for key management: find leaked keys, enforce rotation and access rules.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  const first = argv.find((a) => !a.startsWith('-'));
  const names = first !== undefined && first in GROUPS ? [first] : Object.keys(GROUPS);
  // One module may register several commands (app, serve, worker): register each module once.
  const registered = new Set<Register>();
  for (const name of names) {
    const register = await GROUPS[name]!();
    if (registered.has(register)) continue;
    registered.add(register);
    register(program, io, setExit);
  }
  return program;
}

export async function main(argv: string[], io?: Partial<CliIO>): Promise<number> {
  const full: CliIO = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stdin: process.stdin,
    isTTY: Boolean(process.stdout.isTTY),
    cwd: process.cwd(),
    env: process.env,
    ...io,
  };
  let code: number = ExitCode.OK;
  try {
    const program = await createProgram(
      full,
      (c) => {
        code = c;
      },
      argv,
    );
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    if (isKeywardenError(e)) {
      full.stderr(formatError(e));
      return e.fault === 'user' || e.fault === 'config' ? ExitCode.USAGE : ExitCode.FAILURE;
    }
    // Foreign errors may carry arbitrary text; print only their class, never the message body.
    full.stderr(`keywarden: internal error (${e instanceof Error ? e.name : typeof e}). Run with KEYWARDEN_DEBUG=1 for a stack trace.\n`);
    if (full.env?.KEYWARDEN_DEBUG === '1' && e instanceof Error && e.stack) full.stderr(`${e.stack}\n`);
    return ExitCode.FAILURE;
  }
}

function formatError(e: KeywardenError): string {
  const where = e.location?.file
    ? `${e.location.file}${e.location.line ? `:${e.location.line}${e.location.column ? `:${e.location.column}` : ''}` : ''}: `
    : '';
  return `keywarden: ${where}${e.message} [${e.code}]${e.hint ? `\n  hint: ${e.hint}` : ''}\n`;
}
