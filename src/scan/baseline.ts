/**
 * Baselines: known findings to accept, keyed by the secret's fingerprint, never by line number,
 * so moving code never invalidates an entry and two branches adding entries merge cleanly
 * (one sorted entry per line). Pure: the caller reads and writes the file.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import type { Finding } from './types.js';

export interface BaselineEntry {
  ruleId: string;
  /** Where it was first seen; informational only, never used for matching. */
  file?: string;
  reason?: string;
}

export interface Baseline {
  version: 1;
  /** fingerprint (`sha256:…`) → entry */
  secrets: Record<string, BaselineEntry>;
}

const FP = /^sha256:[0-9a-f]{64}$/;

/** Parses and checks a baseline file; every problem is a `KW_BASELINE_INVALID` error with a location. */
export function parseBaseline(text: string, file = 'baseline'): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    const loc = m ? lineCol(text, Number(m[1])) : { line: 1, column: 1 };
    throw new KeywardenError(ErrorCode.BASELINE_INVALID, `The baseline file is not valid JSON.`, {
      location: { file, ...loc },
      hint: 'Recreate it with `keywarden scan --update-baseline FILE`.',
    });
  }
  const fail = (why: string): never => {
    throw new KeywardenError(ErrorCode.BASELINE_INVALID, `The baseline file is invalid: ${why}.`, {
      location: { file },
      hint: 'Recreate it with `keywarden scan --update-baseline FILE`.',
    });
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail('expected a JSON object');
  const obj = data as Record<string, unknown>;
  if (obj.version !== 1) return fail('"version" must be 1');
  const secrets = obj.secrets;
  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) return fail('"secrets" must be an object keyed by fingerprint');
  const out: Record<string, BaselineEntry> = {};
  for (const [fp, entry] of Object.entries(secrets as Record<string, unknown>)) {
    if (!FP.test(fp)) fail(`"${fp.slice(0, 80)}" is not a fingerprint (sha256:<64 hex digits>)`);
    if (typeof entry !== 'object' || entry === null || typeof (entry as BaselineEntry).ruleId !== 'string') fail(`entry ${fp.slice(0, 15)}… needs a "ruleId"`);
    const e = entry as BaselineEntry;
    out[fp] = { ruleId: e.ruleId, ...(typeof e.file === 'string' ? { file: e.file } : {}), ...(typeof e.reason === 'string' ? { reason: e.reason } : {}) };
  }
  return { version: 1, secrets: out };
}

function lineCol(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return { line, column: pos - before.lastIndexOf('\n') };
}

/** Splits findings into new ones and ones the baseline accepts. */
export function applyBaseline(findings: Finding[], baseline: Baseline | undefined): { kept: Finding[]; baselined: Finding[] } {
  if (!baseline) return { kept: findings, baselined: [] };
  const kept: Finding[] = [];
  const baselined: Finding[] = [];
  for (const f of findings) (baseline.secrets[f.fingerprint] ? baselined : kept).push(f);
  return { kept, baselined };
}

/**
 * A baseline accepting the given findings, merged into an existing one (entries are never dropped).
 * `reason` says why each was accepted (`keywarden baseline import`: the peer entry it came from).
 */
export function createBaseline(findings: Finding[], previous?: Baseline, reason?: (f: Finding) => string | undefined): Baseline {
  const secrets: Record<string, BaselineEntry> = { ...(previous?.secrets ?? {}) };
  for (const f of findings) {
    const why = reason?.(f);
    secrets[f.fingerprint] ??= { ruleId: f.ruleId, file: f.file, ...(why ? { reason: why } : {}) };
  }
  const sorted: Record<string, BaselineEntry> = {};
  for (const k of Object.keys(secrets).sort()) sorted[k] = secrets[k]!;
  return { version: 1, secrets: sorted };
}

/** One entry per line, sorted: merge-friendly. */
export function formatBaseline(b: Baseline): string {
  const keys = Object.keys(b.secrets).sort();
  const lines = keys.map((k) => `    ${JSON.stringify(k)}: ${JSON.stringify(b.secrets[k])}`);
  return `{\n  "version": 1,\n  "secrets": {${lines.length ? `\n${lines.join(',\n')}\n  ` : ''}}\n}\n`;
}
