/**
 * `.env.example`: the names the patched code now reads, never values. The merge keeps what is
 * there byte for byte and only appends; it is idempotent.
 */
import { ErrorCode, KeywardenError } from '../errors.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=/;

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** Appends lines in the text's own line ending, after a final newline. */
export function appendLines(existing: string | undefined, lines: readonly string[]): string {
  const base = existing ?? '';
  if (lines.length === 0) return base;
  const eol = eolOf(base);
  const sep = base === '' || base.endsWith('\n') ? '' : eol;
  return base + sep + lines.join(eol) + eol;
}

/**
 * Adds `NAME=` lines (each after a `# comment` line when given) for names the file does not
 * set yet; keeps everything else. A name it already has, commented out or not, is left alone.
 *
 * @example mergeEnvExample('PORT=3000\n', [{ name: 'STRIPE_SECRET', comment: 'Stripe secret key' }])
 * // 'PORT=3000\n# Stripe secret key\nSTRIPE_SECRET=\n'
 */
export function mergeEnvExample(existing: string | undefined, names: Array<{ name: string; comment?: string }>): string {
  const present = new Set<string>();
  for (const line of (existing ?? '').split('\n')) {
    const m = ENV_LINE.exec(line.replace(/^\s*#\s*/, ''));
    if (m) present.add(m[1]!);
  }
  const lines: string[] = [];
  for (const { name, comment } of names) {
    if (!ENV_NAME.test(name)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'An environment variable name must be letters, digits and underscores.', {
        fault: 'internal',
        details: { length: name.length },
      });
    }
    if (present.has(name)) continue;
    present.add(name);
    const c = comment?.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
    if (c) lines.push(`# ${c}`);
    lines.push(`${name}=`);
  }
  return appendLines(existing, lines);
}
