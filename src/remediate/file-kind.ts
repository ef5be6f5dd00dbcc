/**
 * The kind of a file, by its path; the content breaks a tie only for a file whose name says
 * nothing (no known extension) and that parses as JSON.
 */

export type FileKind =
  | { kind: 'script' }
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'tfvars' }
  | { kind: 'tfvars-json' }
  /** `.env.example` and its kin: committed templates that list names, never values. */
  | { kind: 'env-template' }
  /** A file that has nothing safe to keep once it holds a secret. */
  | { kind: 'remove'; what: RemovableWhat }
  | { kind: 'text' };

export type RemovableWhat = 'env' | 'private-key' | 'credentials' | 'tfstate';

const SCRIPT_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs']);
const KEY_EXTENSIONS = new Set(['.pem', '.key', '.ppk', '.p12', '.pfx', '.jks', '.keystore']);
const KEY_NAMES = new Set(['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_ecdsa_sk', 'id_ed25519_sk']);
const CREDENTIAL_FILES = new Set(['.npmrc', '.pypirc', '.netrc', '_netrc', '.git-credentials']);
const ENV_TEMPLATE_SUFFIXES = new Set(['example', 'examples', 'sample', 'samples', 'template', 'tpl', 'dist', 'defaults']);

function basenameOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? path : path.slice(i + 1);
}

/** The extension with its dot, lower case (`.ts`), or '' when the name has none (a leading dot does not count). */
export function extensionOf(path: string): string {
  const base = basenameOf(path);
  const i = base.lastIndexOf('.');
  return i <= 0 ? '' : base.slice(i).toLowerCase();
}

export function fileKindOf(path: string, text: string): FileKind {
  const base = basenameOf(path).toLowerCase();
  const ext = extensionOf(path);
  if (base === '.env' || base.startsWith('.env.')) {
    const suffix = base.slice('.env.'.length);
    return ENV_TEMPLATE_SUFFIXES.has(suffix) ? { kind: 'env-template' } : { kind: 'remove', what: 'env' };
  }
  if (KEY_NAMES.has(base) || KEY_EXTENSIONS.has(ext)) return { kind: 'remove', what: 'private-key' };
  if (CREDENTIAL_FILES.has(base)) return { kind: 'remove', what: 'credentials' };
  if (base.endsWith('.tfstate') || base.endsWith('.tfstate.backup')) return { kind: 'remove', what: 'tfstate' };
  if (base.endsWith('.tfvars.json')) return { kind: 'tfvars-json' };
  if (ext === '.tfvars') return { kind: 'tfvars' };
  if (SCRIPT_EXTENSIONS.has(ext)) return { kind: 'script' };
  if (ext === '.json' || ext === '.jsonc') return { kind: 'json' };
  if (ext === '.yml' || ext === '.yaml') return { kind: 'yaml' };
  if (ext === '' && /^\s*[{[]/.test(text) && parsesAsJson(text)) return { kind: 'json' };
  return { kind: 'text' };
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
