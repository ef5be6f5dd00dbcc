/**
 * The `keywarden` command. This is the one place that turns errors into exit codes:
 * 0 clean, 1 something was found (or a check failed), 2 usage or configuration error,
 * 3 a backend or internal failure.
 */
import { Command, CommanderError } from 'commander';
import { isKeywardenError, type KeywardenError } from '../errors.js';
import { registerScanCommand } from './commands/scan.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerPolicyCommand } from './commands/policy.js';
import { VERSION } from '../version.js';

export const ExitCode = { OK: 0, FOUND: 1, USAGE: 2, FAILURE: 3 } as const;

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin?: NodeJS.ReadableStream;
  isTTY?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function createProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('keywarden')
    .description('Policy-as-code for key management: find leaked keys, enforce rotation and access rules.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  registerScanCommand(program, io, setExit);
  registerKeysCommand(program, io, setExit);
  registerAuditCommand(program, io, setExit);
  registerPolicyCommand(program, io, setExit);
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
  const program = createProgram(full, (c) => {
    code = c;
  });
  try {
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

export function formatError(e: KeywardenError): string {
  const where = e.location?.file
    ? `${e.location.file}${e.location.line ? `:${e.location.line}${e.location.column ? `:${e.location.column}` : ''}` : ''}: `
    : '';
  return `keywarden: ${where}${e.message} [${e.code}]${e.hint ? `\n  hint: ${e.hint}` : ''}\n`;
}
