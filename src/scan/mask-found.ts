/**
 * Masks every secret the built-in detectors recognise in a text: for the edges that print text
 * which might hold one by accident (log lines, error details, PR bodies). Each secret becomes its
 * redacted preview.
 */
import { redactSecret } from './redact.js';
import { scanText } from './scan-text.js';
import { lineStarts } from '../util/line-column.js';

/** Texts longer than this are cut (with a marker) before masking: a log line is not a file. */
const MAX = 64 * 1024;

export function maskFoundSecrets(text: string): string {
  const s = text.length > MAX ? `${text.slice(0, MAX)}…(cut)` : text;
  // Fast path: nothing that could be a secret.
  if (s.length < 8) return s;
  const findings = scanText(s, { inlineAllow: false });
  if (!findings.length) return s;
  const starts = lineStarts(s);
  const ranges = findings
    .map((f) => [starts[f.startLine - 1]! + f.startColumn - 1, starts[f.endLine - 1]! + f.endColumn - 1, f.redacted] as const)
    .sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [from, to, redacted] of ranges) {
    if (from < at) continue;
    out += s.slice(at, from) + (redacted || redactSecret(s.slice(from, to)));
    at = to;
  }
  return out + s.slice(at);
}
