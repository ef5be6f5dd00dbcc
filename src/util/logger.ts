/**
 * A small structured logger for the pipeline and the CLI: JSON lines on stderr, off unless
 * KEYWARDEN_LOG is `info` or `debug`. Every string that goes out passes `redactText` first, so
 * a value a detector recognises is masked even when it reached a log line by accident.
 * (The App uses pino with the same redaction hook.)
 */
import { maskFoundSecrets } from '../scan/mask-found.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: { env: NodeJS.ProcessEnv; write?: (line: string) => void }): Logger {
  const level = options.env.KEYWARDEN_LOG as LogLevel | undefined;
  const min = level && level in RANK ? RANK[level] : Infinity;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const log = (lvl: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (RANK[lvl] < min) return;
    const out: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg: maskFoundSecrets(msg) };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      out[k] = typeof v === 'string' ? maskFoundSecrets(v) : Array.isArray(v) ? v.map((x) => maskFoundSecrets(String(x))) : v;
    }
    write(`${JSON.stringify(out)}\n`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}
