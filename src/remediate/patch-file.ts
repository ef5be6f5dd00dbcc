/**
 * `patchFile`: one file's text and the sites of its findings in, the patched text (or "delete
 * and ignore this file", or "nothing safe to do") out. Pure: no I/O, no clock, no environment.
 *
 * Security properties:
 * - a site is patched only when the text at its range hashes to its fingerprint (else `stale`);
 * - the secret never leaves through the result: the patched text, the variable names, the notes
 *   and the details are built from the code around the secret, the finding's type and its
 *   redacted preview, never from the secret;
 * - a patch that would break the file's syntax is not made: every parser-placed edit is parsed
 *   again, and the site is `unsupported` instead.
 *
 * By kind of file (by path; content only breaks a tie):
 * - TypeScript / JavaScript: ts-morph, see `patch-typescript.ts`; a file that does not parse gets
 *   the text method and a `KW_PATCH_UNPARSEABLE` note;
 * - `.env` files, private key files, `.npmrc`/`.pypirc`/`.netrc`/`.git-credentials`, `*.tfstate`:
 *   `remove`, with the `.gitignore` line;
 * - JSON, YAML: `${NAME}` in place of the secret part of the string (`patch-json.ts`, `patch-yaml.ts`);
 * - Terraform variable files: the assignment is removed, `TF_VAR_<name>` is the reference;
 * - `.env.example` and other templates: a whole value is emptied;
 * - any other text: `${NAME}`;
 * - binary (NUL bytes), unless it is a file to remove (a `.p12`, a `.jks`): `none`, `KW_PATCH_UNSUPPORTED`.
 *
 * @example
 * const r = patchFile({ path: 'src/pay.ts', text, sites: [{ ...finding }] });
 * if (r.action === 'edit') write(r.text); // r.envVars: [{ name: 'STRIPE_SECRET', … }]
 */
import { ErrorCode } from '../errors.js';
import { EnvNamer } from './env-name.js';
import { fileKindOf, type RemovableWhat } from './file-kind.js';
import { patchJson, patchTfvarsJson } from './patch-json.js';
import { patchText, type FormatPatch, type PatchContext } from './patch-text.js';
import { patchTfvars } from './patch-tfvars.js';
import { patchScript, UNPARSEABLE_NOTE } from './patch-typescript.js';
import { patchYaml } from './patch-yaml.js';
import { applyEdits, envVarsOf, resolveSites, unsupported } from './sites.js';
import type { PatchFileInput, PatchFileResult, SiteOutcome, SiteOutcomeKind } from './types.js';

const REMOVE_REASONS: Record<RemovableWhat, string> = {
  env: 'An environment file is local configuration and holds nothing that is safe to commit. Delete it from the repository and ignore it; list its names (without values) in .env.example instead.',
  'private-key': 'A private key file has nothing that is safe to keep once the key has leaked. Delete it from the repository and ignore it; the replacement key belongs in a key store, not in git.',
  credentials:
    'A credentials file holds the secret as its content. Delete it from the repository and ignore it. (A project .npmrc that is needed for its registry settings can come back without the token, as `//registry.npmjs.org/:_authToken=${NPM_TOKEN}`: npm reads the variable.)',
  tfstate: 'Terraform state holds secrets in plain text. Delete it from the repository and ignore it; keep state in a remote backend with encryption and access control.',
};

export function patchFile(input: PatchFileInput): PatchFileResult {
  const { text, sites } = input;
  if (sites.length === 0) return { action: 'none', code: ErrorCode.PATCH_UNSUPPORTED, reason: 'There are no sites to patch.', sites: [] };
  const kind = fileKindOf(input.path, text);
  // A key store (.p12, .jks) is binary and is removed all the same; any other binary is not patched.
  if (kind.kind !== 'remove' && text.includes('\0')) {
    return {
      action: 'none',
      code: ErrorCode.PATCH_UNSUPPORTED,
      reason: 'The file is binary (it holds NUL bytes): only text files are patched. Replace it by hand.',
      sites: sites.map((s) => unsupported(s, 'The file is binary.')),
    };
  }
  const resolved = resolveSites(text, sites);
  const outcomes = (patched: ReadonlyMap<number, SiteOutcome>, done: SiteOutcomeKind): SiteOutcome[] =>
    sites.map((site, i) => {
      const own = resolved.outcomes.get(i) ?? patched.get(resolved.duplicates.get(i) ?? i);
      return own ?? { fingerprint: site.fingerprint, line: site.startLine, outcome: done };
    });

  if (kind.kind === 'remove') {
    const path = repoPath(input.path);
    if (path === undefined) {
      const all = outcomes(new Map(resolved.verified.map((s) => [s.index, unsupported(s.site, 'The path is not inside the repository.')])), 'unsupported');
      return { action: 'none', code: ErrorCode.PATCH_UNSUPPORTED, reason: 'The path is not a repository-relative path; nothing was changed.', sites: all };
    }
    const all = outcomes(new Map(), 'removed');
    if (resolved.verified.length === 0) return nothingDone(all);
    return { action: 'remove', reason: REMOVE_REASONS[kind.what], gitignore: gitignoreLine(path), sites: all };
  }

  const ctx: PatchContext = {
    text,
    sites: resolved.verified,
    starts: resolved.starts,
    namer: new EnvNamer(input.takenEnvNames, input.knownEnvNames),
  };
  const notes: string[] = [];
  let method: 'ts-morph' | 'text' = 'text';
  let patch: FormatPatch;
  switch (kind.kind) {
    case 'script': {
      const r = patchScript(ctx, input.path);
      if (r.parsed) {
        patch = r;
        method = 'ts-morph';
      } else {
        notes.push(UNPARSEABLE_NOTE(r.reason));
        patch = patchText(ctx);
      }
      break;
    }
    case 'json':
      patch = patchJson(ctx);
      break;
    case 'tfvars-json':
      patch = patchTfvarsJson(ctx);
      break;
    case 'yaml':
      patch = patchYaml(ctx);
      break;
    case 'tfvars':
      patch = patchTfvars(ctx);
      break;
    case 'env-template':
      patch = patchText(ctx, { template: true });
      break;
    case 'text':
      patch = patchText(ctx);
      break;
  }
  const patched = new Map(patch.outcomes);
  const inEdit = new Set(patch.edits.flatMap((e) => e.sites));
  for (const s of resolved.verified) {
    if (!patched.has(s.index) && !inEdit.has(s.index)) patched.set(s.index, unsupported(s.site, 'No edit was made for this site.'));
  }
  const all = outcomes(patched, 'replaced');
  if (patch.edits.length === 0) return nothingDone(all);
  const applied = applyEdits(text, patch.edits);
  return {
    action: 'edit',
    text: applied.text,
    method,
    envVars: envVarsOf(applied.text, patch.edits, applied.newStarts),
    sites: all,
    notes: [...new Set([...notes, ...patch.notes])],
  };
}

function nothingDone(sites: SiteOutcome[]): PatchFileResult {
  const stale = sites.every((s) => s.outcome === 'stale');
  return {
    action: 'none',
    code: stale ? ErrorCode.PATCH_STALE : ErrorCode.PATCH_UNSUPPORTED,
    reason: stale
      ? 'No site matches its fingerprint any more: the file changed since the scan. Scan again.'
      : 'No site could be patched safely; see each site for why, and patch the file by hand.',
    sites,
  };
}

/** A repository-relative path without `./`, or undefined when it leaves the repository. */
function repoPath(path: string): string | undefined {
  const p = path.replace(/^(?:\.\/)+/, '').replace(/^\/+/, '');
  if (p === '' || p.split('/').some((seg) => seg === '..' || seg === '')) return undefined;
  return p;
}

/**
 * The `.gitignore` line for exactly this file: anchored at the repository root (a leading `/`),
 * so it matches this path only and never a file of the same name elsewhere; glob characters,
 * backslashes and trailing spaces escaped; a control character (which a pattern cannot hold)
 * matched by `?`.
 */
export function gitignoreLine(path: string): string {
  let out = '/';
  for (const c of path) {
    if ('\\*?['.includes(c)) out += `\\${c}`;
    else if (/[\u0000-\u001f\u007f]/.test(c)) out += '?';
    else out += c;
  }
  return out.replace(/ +$/, (spaces) => '\\ '.repeat(spaces.length));
}
