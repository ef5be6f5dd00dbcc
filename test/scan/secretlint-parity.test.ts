/**
 * Parity with secretlint's recommended preset: on the generated fake secrets of every detector,
 * whatever secretlint reports, our built-in catalogue reports too (an overlapping finding), and
 * every scanning rule of the preset is exercised by at least one sample. Also checks that the
 * bridge keeps raw secrets out of its output.
 */
import { describe, expect, it } from 'vitest';
import { createRuleset } from '../../src/scan/engine.js';
import { scanText } from '../../src/scan/scan-text.js';
import { builtinDetectors } from '../../src/scan/detectors/index.js';
import { runSecretlint, secretlintRuleNames, type SecretlintFinding } from '../../src/scan/secretlint-bridge.js';
import type { Finding } from '../../src/scan/types.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

const SAMPLES = 4;
const ruleset = createRuleset(builtinDetectors);

/** secretlint picks some checks by file name; give each sample the file it would live in. */
const FILE_FOR: Readonly<Record<string, string>> = {
  'npmrc-auth-token': '.npmrc',
  'github-oauth-basic-url': 'package.json',
  'gcp-service-account': 'service-account.json',
  'docker-config-auth': 'config.json',
};

/** Rules of the preset that scan for secrets (the comment filter only suppresses). */
const NON_SCANNING = new Set(['filter-comments']);

function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = text.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

function overlaps(text: string, a: Pick<Finding, 'startLine' | 'startColumn' | 'endLine' | 'endColumn'>, b: typeof a): boolean {
  const as = offsetOf(text, a.startLine, a.startColumn);
  const ae = offsetOf(text, a.endLine, a.endColumn);
  const bs = offsetOf(text, b.startLine, b.startColumn);
  const be = offsetOf(text, b.endLine, b.endColumn);
  return as < be && bs < ae;
}

describe('secretlint parity', () => {
  it('finds whatever secretlint finds in the generated samples, and exercises every preset rule', async () => {
    const fired = new Set<string>();
    const misses: string[] = [];
    for (const id of Object.keys(secretGenerators).sort()) {
      const rng = createRng(`parity:${id}`);
      const file = FILE_FOR[id] ?? 'config.txt';
      for (let i = 0; i < SAMPLES; i++) {
        const { line } = secretGenerators[id]!(rng);
        const text = `${line}\n`;
        const theirs = await runSecretlint(text, file);
        const ours = scanText(text, { ruleset, file });
        for (const t of theirs) {
          fired.add(t.ruleId.replace('secretlint/', ''));
          if (!ours.some((o) => overlaps(text, o, t))) misses.push(`${id} sample ${i}: ${t.ruleId} (${t.messageId}) not matched by us`);
        }
      }
    }
    expect(misses).toEqual([]);
    const scanning = (await secretlintRuleNames()).filter((r) => !NON_SCANNING.has(r));
    expect(scanning.filter((r) => !fired.has(r))).toEqual([]);
  });

  it('maps messages to redacted, fingerprinted findings without the raw secret', async () => {
    const rng = createRng('bridge');
    const { secret, line } = secretGenerators['github-pat-classic']!(rng);
    const text = `// ci\n${line}\n`;
    const findings: SecretlintFinding[] = await runSecretlint(text, 'ci.env');
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f!.ruleId).toBe('secretlint/github');
    expect(f!.type).toBe('github-token');
    expect(f!.file).toBe('ci.env');
    expect(f!.startLine).toBe(2);
    expect(f!.startColumn).toBe(line.indexOf(secret) + 1);
    expect(f!.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(findings)).not.toContain(secret);
    // The same secret, the same identity as our own detector gives it.
    const ours = scanText(text, { ruleset });
    expect(ours.map((o) => o.fingerprint)).toContain(f!.fingerprint);
  });

  it('honours secretlint-disable comments, as secretlint does', async () => {
    const rng = createRng('disable');
    const { line } = secretGenerators['slack-bot-token']!(rng);
    expect(await runSecretlint(`${line} // secretlint-disable-line\n`, 'a.js')).toEqual([]);
  });
});
