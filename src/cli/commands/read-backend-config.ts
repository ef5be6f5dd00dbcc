/**
 * Reads the `backend:` block of the policy file. A stopgap until src/policy exposes the
 * parsed policy: swap this function for the policy loader and keep its result type.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ErrorCode, KeywardenError } from '../../errors.js';

export type BackendBlock = Record<string, string | number | boolean>;

/** Returns the `backend:` mapping of the file, `undefined` when the file or the block is absent. */
export function readBackendConfig(file: string): BackendBlock | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeywardenError(ErrorCode.FILE_UNREADABLE, `Could not read ${file}.`, { fault: 'config', cause: e, location: { file } });
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    throw new KeywardenError(ErrorCode.POLICY_PARSE, `The policy file is not valid YAML (${first.code}).`, {
      fault: 'config',
      location: { file, ...(pos ? { line: pos.line, column: pos.col } : {}) },
    });
  }
  const root = doc.toJS({ maxAliasCount: 50 }) as unknown;
  if (!root || typeof root !== 'object') return undefined;
  const block = (root as Record<string, unknown>).backend;
  if (block === undefined || block === null) return undefined;
  if (typeof block !== 'object' || Array.isArray(block)) {
    throw new KeywardenError(ErrorCode.CONFIG_INVALID, 'The "backend" entry of the policy file must be a mapping, e.g. backend: { kind: aws-kms, region: eu-west-1 }.', {
      fault: 'config',
      location: { file },
    });
  }
  const out: BackendBlock = {};
  for (const [k, v] of Object.entries(block as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}
