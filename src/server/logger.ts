/**
 * The App's pino logger (Probot 14 takes it as `log`).
 *
 * Security: two layers. pino's `redact` censors the fields known to hold credentials
 * (authorization headers, the webhook signature, `token`, `privateKey`, `password`, `secret`).
 * Then every serialized line passes {@link maskLogLine} at the destination, so a secret that a
 * built-in detector recognises is masked wherever it sits: the message, a field, an error's
 * message or stack, a nested object, a JSON string inside a string.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { maskFoundSecrets } from '../scan/mask-found.js';

export interface AppLoggerOptions {
  /** pino level: `fatal` … `trace` or `silent`. Default `info`. */
  level?: string;
  /** Where lines go. Default stdout. Whatever is given only ever receives masked lines. */
  destination?: DestinationStream;
}

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.headers.authorization',
  'headers["x-hub-signature-256"]',
  '*.headers["x-hub-signature-256"]',
  'token',
  '*.token',
  'privateKey',
  '*.privateKey',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

/**
 * @example
 * const log = createAppLogger({ level: 'info' });
 * const probot = new Probot({ appId, privateKey, secret, log });
 */
export function createAppLogger(options: AppLoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination(1);
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  return pino({ level: options.level ?? 'info', redact }, maskingStream(destination));
}

function maskingStream(destination: DestinationStream): DestinationStream {
  const flushable = destination as DestinationStream & { flush?: (cb?: (err?: Error) => void) => void };
  return {
    write: (chunk: string) => destination.write(maskLogLine(chunk)),
    ...(typeof flushable.flush === 'function' ? { flush: (cb?: (err?: Error) => void) => flushable.flush!(cb) } : {}),
  } as DestinationStream;
}

/** maskFoundSecrets cuts texts longer than 64 KiB; longer lines are masked in windows below that. */
const WINDOW = 60_000;

/**
 * Masks every secret a built-in detector recognises in one or more serialized log lines.
 *
 * A JSON line with escapes (`\n` inside a PEM block, `\"`) is parsed and every key and string is
 * masked decoded (a string that itself holds escaped JSON is also masked once more decoded);
 * then the whole line is masked as text, which catches secrets that need the field name
 * beside them (`"secretAccessKey":"…"`). Lines that are not JSON get the text pass only.
 *
 * @example maskLogLine('{"msg":"token ghp_…"}\n') // the token becomes its redacted preview
 */
export function maskLogLine(chunk: string): string {
  const newline = chunk.endsWith('\n');
  const body = newline ? chunk.slice(0, -1) : chunk;
  return body.split('\n').map(maskOne).join('\n') + (newline ? '\n' : '');
}

function maskOne(line: string): string {
  let out = line;
  if (line.includes('\\')) {
    try {
      const parsed: unknown = JSON.parse(line);
      const masked = maskDeep(parsed);
      if (masked.changed) out = JSON.stringify(masked.value);
    } catch {
      // Not JSON: the text pass below is all there is.
    }
  }
  return maskText(out);
}

function maskText(text: string): string {
  if (text.length <= WINDOW) return maskFoundSecrets(text);
  let out = '';
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + WINDOW, text.length);
    // Cut between JSON fields when there is a boundary, so a value is not split in two.
    if (end < text.length) {
      const boundary = text.lastIndexOf(',"', end);
      if (boundary > at) end = boundary;
    }
    out += maskFoundSecrets(text.slice(at, end));
    at = end;
  }
  return out;
}

interface Masked {
  value: unknown;
  changed: boolean;
}

function maskDeep(value: unknown): Masked {
  if (typeof value === 'string') {
    const masked = maskString(value);
    return { value: masked, changed: masked !== value };
  }
  if (Array.isArray(value)) {
    const items = value.map(maskDeep);
    return { value: items.map((m) => m.value), changed: items.some((m) => m.changed) };
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    // fromEntries defines own properties, so a `__proto__` key stays a key.
    const entries = Object.entries(value).map(([k, v]) => {
      const key = maskString(k);
      const m = maskDeep(v);
      changed ||= m.changed || key !== k;
      return [key, m.value] as const;
    });
    return { value: Object.fromEntries(entries), changed };
  }
  return { value, changed: false };
}

const ESCAPE = /\\(["\\/nrt])/g;
const UNESCAPED: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', r: '\r', t: '\t' };

/** A string holding escaped text (a JSON payload logged as a string, maybe twice) is masked decoded, up to 3 layers. */
function maskString(s: string): string {
  let out = maskFoundSecrets(s);
  let layer = out;
  for (let i = 0; i < 3 && layer.includes('\\'); i++) {
    const decoded = layer.replace(ESCAPE, (_, c: string) => UNESCAPED[c]!);
    if (decoded === layer) break;
    layer = maskFoundSecrets(decoded);
    // Once a deeper layer needed masking, that layer (decoded, masked) is what gets logged.
    if (layer !== decoded) out = layer;
  }
  return out;
}
