/**
 * Adapter over the fake-secret generators in `test/fixtures/secrets/generators.ts`, loaded at run
 * time and checked, so that a change in that file's shape gives one clear error here instead of
 * a corpus with silently wrong records.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface GeneratedSecret {
  /** The raw fake secret; it must occur verbatim in `line`. */
  secret: string;
  /** The text to plant: one line, or several for multi-line secrets (PEM blocks, JSON files). */
  line: string;
}

export interface SecretKind {
  /** Detector id the generator is keyed by, e.g. `aws-access-key-id`. */
  detectorId: string;
  /** Credential type (`aws-access-key`, `private-key`, …); the detector id when unknown. */
  type: string;
  generate: () => GeneratedSecret;
}

export const GENERATORS_PATH = 'test/fixtures/secrets/generators.ts';

export function generatorsDigest(repoRoot: string): string {
  const file = path.join(repoRoot, GENERATORS_PATH);
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'missing';
}

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Loads the generators with one RNG seeded from `seed`; kinds come back sorted by detector id so
 * that the corpus depends only on the seed and the generators, not on object key order.
 */
export async function loadSecretKinds(repoRoot: string, seed: string): Promise<SecretKind[]> {
  const file = path.join(repoRoot, GENERATORS_PATH);
  if (!existsSync(file)) {
    throw new Error(`${GENERATORS_PATH} does not exist yet: the benchmark plants secrets made by its generators.`);
  }
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const gens = mod['secretGenerators'];
  const createRng = mod['createRng'];
  if (typeof gens !== 'object' || gens === null) throw new Error(`${GENERATORS_PATH} must export secretGenerators: Record<detectorId, (rng) => { secret, line }>`);
  if (typeof createRng !== 'function') throw new Error(`${GENERATORS_PATH} must export createRng(seed)`);
  const seedArg = /^\d+$/.test(seed) ? Number(seed) : seed;
  const rng = (createRng as AnyFn)(seedArg);
  const types = await loadDetectorTypes(repoRoot, mod);
  return Object.keys(gens)
    .sort()
    .map((detectorId): SecretKind => {
      const gen = (gens as Record<string, unknown>)[detectorId];
      if (typeof gen !== 'function') throw new Error(`secretGenerators["${detectorId}"] is not a function`);
      return {
        detectorId,
        type: types.get(detectorId) ?? detectorId,
        generate: () => {
          const out = (gen as AnyFn)(rng) as Partial<GeneratedSecret & { type: string }> | null;
          if (!out || typeof out.secret !== 'string' || typeof out.line !== 'string' || out.secret.length === 0) {
            throw new Error(`secretGenerators["${detectorId}"] did not return { secret: string, line: string }`);
          }
          if (!out.line.includes(out.secret)) throw new Error(`secretGenerators["${detectorId}"]: the line does not contain the secret`);
          return { secret: out.secret, line: out.line };
        },
      };
    });
}

/** Detector id → credential type, from the fixture module or the detector registry, when either says. */
export async function loadDetectorTypes(repoRoot: string, fixture: Record<string, unknown> = {}): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  const absorb = (value: unknown): void => {
    const list = Array.isArray(value) ? value : typeof value === 'object' && value !== null ? Object.values(value) : [];
    for (const d of list) {
      if (typeof d === 'object' && d !== null && typeof (d as { id?: unknown }).id === 'string' && typeof (d as { type?: unknown }).type === 'string') {
        map.set((d as { id: string }).id, (d as { type: string }).type);
      }
    }
  };
  for (const v of Object.values(fixture)) absorb(v);
  for (const rel of ['src/scan/detectors/index.ts', 'src/scan/detectors/builtin.ts', 'src/scan/detectors/registry.ts']) {
    const file = path.join(repoRoot, rel);
    if (!existsSync(file)) continue;
    try {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const v of Object.values(mod)) absorb(v);
    } catch {
      // the registry is optional here: types then fall back to detector ids
    }
  }
  return map;
}

export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}
