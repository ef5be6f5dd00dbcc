/**
 * Scores one tool's findings against the planted secrets.
 *
 * - A planted secret is found when a finding in the same file overlaps the lines of the secret
 *   (any line of it, for multi-line secrets such as PEM blocks).
 * - It is found exactly when such a finding also carries the secret's fingerprint (the tool
 *   extracted precisely the planted value, not a neighbour or a fragment).
 * - A finding is a false positive when it overlaps no planted snippet at all: it is on the
 *   copied, unplanted text (a finding on a snippet's context line is neither).
 */
import type { PlantRecord } from './corpus.js';
import type { ToolFinding } from './tools.js';

export interface KindScore {
  detectorId: string;
  type: string;
  planted: number;
  found: number;
  exact: number;
  /** Rule ids of the findings that found secrets of this kind, with counts. */
  foundBy: Record<string, number>;
}

export interface FalsePositiveRule {
  ruleId: string;
  count: number;
  /** A few places, `file:line`, to look at. */
  examples: string[];
}

export interface Score {
  planted: number;
  found: number;
  exact: number;
  recall: number;
  findings: number;
  falsePositives: number;
  /** Distinct file:line places among the false positives. */
  falsePositivePlaces: number;
  falsePositivesPer100MB: number;
  byKind: KindScore[];
  byHost: Record<string, { planted: number; found: number }>;
  fpRules: FalsePositiveRule[];
  /** Ids of the planted secrets that were found. */
  foundIds: number[];
}

export function score(plants: readonly PlantRecord[], findings: readonly ToolFinding[], scannedBytes: number): Score {
  const byFile = new Map<string, PlantRecord[]>();
  for (const p of plants) {
    const list = byFile.get(p.file);
    if (list) list.push(p);
    else byFile.set(p.file, [p]);
  }
  const found = new Map<number, { exact: boolean; rules: Set<string> }>();
  const fp = new Map<string, { count: number; examples: string[] }>();
  const fpPlaces = new Set<string>();
  for (const f of findings) {
    const candidates = byFile.get(f.file) ?? [];
    let onSnippet = false;
    for (const p of candidates) {
      if (f.startLine <= p.blockEndLine && f.endLine >= p.blockStartLine) onSnippet = true;
      if (f.startLine <= p.endLine && f.endLine >= p.startLine) {
        const hit = found.get(p.id) ?? { exact: false, rules: new Set<string>() };
        hit.rules.add(f.ruleId);
        if (f.fingerprint === p.fingerprint) hit.exact = true;
        found.set(p.id, hit);
      }
    }
    if (!onSnippet) {
      const e = fp.get(f.ruleId) ?? { count: 0, examples: [] };
      e.count++;
      if (e.examples.length < 5) e.examples.push(`${f.file}:${f.startLine}`);
      fp.set(f.ruleId, e);
      fpPlaces.add(`${f.file}:${f.startLine}`);
    }
  }

  const kinds = new Map<string, KindScore>();
  const byHost: Score['byHost'] = {};
  let exact = 0;
  for (const p of plants) {
    const k = kinds.get(p.detectorId) ?? { detectorId: p.detectorId, type: p.type, planted: 0, found: 0, exact: 0, foundBy: {} };
    k.planted++;
    const host = `${p.host} ${p.ext}`;
    const h = (byHost[host] ??= { planted: 0, found: 0 });
    h.planted++;
    const hit = found.get(p.id);
    if (hit) {
      k.found++;
      h.found++;
      if (hit.exact) {
        k.exact++;
        exact++;
      }
      for (const r of hit.rules) k.foundBy[r] = (k.foundBy[r] ?? 0) + 1;
    }
    kinds.set(p.detectorId, k);
  }
  const falsePositives = [...fp.values()].reduce((a, e) => a + e.count, 0);
  return {
    planted: plants.length,
    found: found.size,
    exact,
    recall: plants.length ? found.size / plants.length : 0,
    findings: findings.length,
    falsePositives,
    falsePositivePlaces: fpPlaces.size,
    falsePositivesPer100MB: scannedBytes ? (falsePositives / scannedBytes) * 1e8 : 0,
    byKind: [...kinds.values()].sort((a, b) => (a.detectorId < b.detectorId ? -1 : 1)),
    byHost,
    fpRules: [...fp.entries()].map(([ruleId, e]) => ({ ruleId, count: e.count, examples: e.examples })).sort((a, b) => b.count - a.count || (a.ruleId < b.ruleId ? -1 : 1)),
    foundIds: [...found.keys()].sort((a, b) => a - b),
  };
}
