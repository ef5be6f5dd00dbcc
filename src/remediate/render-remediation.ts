/**
 * The words of a remediation for people: the commit message and a `REMEDIATION.md` section.
 *
 * Security property: built only from the summary, which holds redacted previews, fingerprints
 * and the pipeline's own words, never a secret. Everything taken from the repository (paths, rule
 * ids) is hostile: control characters are shown escaped (a path cannot forge a commit trailer or a
 * line of the message), and in the markdown every such text sits in a code span, so it cannot add
 * links, images or HTML. A preview longer than any preview `redactSecret` makes is not shown.
 *
 * The history section: the secret stays in git history; a revoked credential there can no longer
 * be used, so rewriting history is optional; the exact `git filter-repo --replace-text` command,
 * with the replacements file the team creates locally (Keywarden never writes the secret, so it
 * shows only the format, with the redacted preview where the secret goes).
 */
import type { RemediationFinding, RemediationSummary } from './types.js';

const MAX_PREVIEW = 48;

/**
 * One line: control, line-separator and bidirectional-override characters (which reorder what a
 * reader sees, "Trojan Source") shown as `\u{…}`.
 */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** A markdown code span that holds any text: a fence longer than its longest run of backticks. */
function code(s: string): string {
  const t = oneLine(s);
  const runs = t.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || t === '' ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** Markdown text with its markup characters escaped. */
function text(s: string): string {
  return oneLine(s).replace(/[\\`*_{}[\]()<>#+!|~&]/g, (c) => `\\${c}`);
}

function preview(f: RemediationFinding): string {
  const p = oneLine(f.redacted);
  return p.length > 0 && p.length <= MAX_PREVIEW ? p : '[redacted]';
}

function shortFingerprint(fp: string): string {
  const hex = fp.replace(/^sha256:/, '');
  return /^[0-9a-f]+$/i.test(hex) ? `sha256:${hex.slice(0, 12)}` : '[fingerprint]';
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Single-quoted for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Whether a secret of this finding spans lines (a key block), which a replace-text line cannot hold. */
function isBlock(f: RemediationFinding): boolean {
  return f.type === 'private-key' || f.type === 'gcp-service-account' || /PRIVATE KEY|PuTTY/.test(f.redacted);
}

/**
 * @example
 * const { commitMessage, markdown } = renderRemediation({ findings, filesChanged: ['src/pay.ts'], envAdded: ['STRIPE_SECRET'] });
 */
export function renderRemediation(summary: RemediationSummary): { commitMessage: string; markdown: string } {
  return { commitMessage: renderCommitMessage(summary), markdown: renderMarkdown(summary) };
}

function renderCommitMessage(s: RemediationSummary): string {
  const n = s.findings.length;
  const lines = [`Remove ${plural(n, 'leaked secret')} from the code`, ''];
  for (const f of s.findings) {
    const done = f.actions.length > 0 ? `: ${f.actions.map(oneLine).join('; ')}` : '';
    lines.push(`- ${oneLine(f.type)} ${preview(f)} in ${oneLine(f.file)}:${f.line} (${shortFingerprint(f.fingerprint)})${done}`);
  }
  if (s.envAdded.length > 0) lines.push('', `The code now reads from the environment: ${s.envAdded.map(oneLine).join(', ')}.`);
  if (s.filesRemoved && s.filesRemoved.length > 0) lines.push('', `Removed and ignored: ${s.filesRemoved.map(oneLine).join(', ')}.`);
  lines.push(
    '',
    'The secrets remain in git history. A revoked credential there can no longer be used;',
    'REMEDIATION.md says how to rewrite history if the team wants to.',
  );
  return `${lines.join('\n')}\n`;
}

function renderMarkdown(s: RemediationSummary): string {
  const out: string[] = [];
  const n = s.findings.length;
  out.push('## Leaked secrets removed by Keywarden', '');
  out.push(
    `Keywarden found ${plural(n, 'leaked secret')}, had the credential${n === 1 ? '' : 's'} revoked or rotated as the key policy demands, ` +
      'and changed the code so that it no longer holds them.',
    '',
  );
  s.findings.forEach((f, i) => {
    out.push(`### ${i + 1}. ${code(preview(f))} (${code(f.type)}) in ${code(`${f.file}:${f.line}`)}`, '');
    out.push(`- Fingerprint: ${code(shortFingerprint(f.fingerprint))}`);
    if (f.rule) out.push(`- Required by the policy rule ${code(f.rule.id)} at ${code(`${f.rule.file}:${f.rule.line}`)}`);
    if (f.patch) out.push(`- In the file: ${text(f.patch)}`);
    for (const a of f.actions) out.push(`- ${text(a)}`);
    if (f.actions.length === 0) out.push('- Nothing was revoked or rotated for this secret: revoke it by hand.');
    out.push('');
  });
  out.push('### Changes', '');
  if (s.filesChanged.length > 0) out.push('Files changed:', '', ...s.filesChanged.map((f) => `- ${code(f)}`), '');
  if (s.filesRemoved && s.filesRemoved.length > 0) {
    out.push('Files deleted from the repository and added to `.gitignore`:', '', ...s.filesRemoved.map((f) => `- ${code(f)}`), '');
  }
  if (s.envAdded.length > 0) {
    out.push(
      'The code now reads these environment variables. Set each one, to the new credential, wherever the code runs ' +
        '(deployments, CI secrets, local `.env` files); `.env.example` lists them without values:',
      '',
      ...s.envAdded.map((e) => `- ${code(e)}`),
      '',
    );
  }
  for (const note of s.notes ?? []) out.push(`> ${text(note)}`, '');
  out.push(...historySection(s));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function historySection(s: RemediationSummary): string[] {
  const file = s.replacementsFile ?? '../keywarden-replacements.txt';
  const out: string[] = [];
  out.push('### The secrets are still in git history', '');
  out.push(
    'This change removes the secrets from the current files only: every earlier commit still holds them, and so do clones, ' +
      'forks and caches of the repository. A revoked credential in history can no longer be used, so once revocation is ' +
      'confirmed, rewriting history is optional; it removes the copies from this repository, not from clones made before.',
    '',
  );
  out.push(
    `To rewrite history, create a replacements file locally, outside the repository (for example ${code(file)}), and never ` +
      'commit it: Keywarden never writes a secret anywhere, so the team writes it. Each line holds one literal secret, ' +
      'followed by `==>REMOVED`. The lines below show the format with the redacted preview where the full secret goes:',
    '',
  );
  const lines = s.findings.filter((f) => !isBlock(f)).map((f) => `${preview(f)}==>REMOVED`);
  const blocks = s.findings.filter(isBlock);
  if (lines.length > 0) out.push('```text', ...[...new Set(lines)], '```', '');
  if (blocks.length > 0) {
    out.push(
      'A key block spans several lines and one replacements line cannot: for a key block (' +
        blocks.map((f) => code(preview(f))).join(', ') +
        '), write each line of its base64 body as its own literal line followed by `==>REMOVED`, so no part of the key survives.',
      '',
    );
  }
  out.push('Then, in a fresh clone (git filter-repo refuses to rewrite a clone with local work):', '');
  const removed = s.filesRemoved ?? [];
  const paths = removed.length > 0 ? ` --invert-paths ${removed.map((f) => `--path ${shellQuote(oneLine(f))}`).join(' ')}` : '';
  out.push('```sh', `git filter-repo --replace-text ${shellQuote(file)}${paths}`, '```', '');
  if (removed.length > 0) out.push('`--invert-paths` with each `--path` also drops the deleted files from every commit.', '');
  out.push(
    'Afterwards force-push every branch and tag, ask everyone to clone again, and delete the replacements file ' +
      '(for example with `shred -u`). The hosting service may keep copies in pull request refs and caches until its support removes them.',
  );
  return out;
}
