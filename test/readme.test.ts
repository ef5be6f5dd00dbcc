import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPolicyEngine, LocalBackend, policyKeysFrom, readPolicy, scan, scanText } from '../src/index.js';
import { createRng, secretGenerators } from './fixtures/secrets/generators.js';

describe('README', () => {
  it('the main job (npm run demo) runs the whole loop: found, decided with the policy line, revoked, rotated, patched, audited', () => {
    expect(existsSync('dist/cli/main.js'), 'npm test builds dist/ first').toBe(true);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/keywarden respond: \d+ findings in \d+ files/);
    expect(r.stdout).toMatch(/local key lk-[0-9a-f-]+ \(payments-signing\) version 1, matched by its key material/);
    expect(r.stdout).toMatch(/revoke, rotate.* ← secrets\/on-leak\/0 \(\.github\/keywarden\.yml:\d+\)/);
    expect(r.stdout).toMatch(/✓ revoke version 1 of local key/);
    expect(r.stdout).toMatch(/rotated in place, version 2 is current/);
    expect(r.stdout).toMatch(/Remediation branch: keywarden\/remediate-[0-9a-f]{12}/);
    expect(r.stdout).toMatch(/\+ {2}signingKey: \(process\.env\['SIGNING_KEY'\]/);
    expect(r.stdout).toMatch(/Audit log intact: \d+ records/);
    expect(r.stdout).toContain('no secrets found');
  }, 120_000);

  it('the SDK example works as written', async () => {
    const repo = path.resolve('.keywarden/demo/sample-app');
    const { findings, summary } = await scan({ path: repo, git: { range: 'HEAD~1..HEAD' } });
    expect(findings.length).toBeGreaterThan(0);
    expect(summary.commits).toBe(1);
    const source = secretGenerators['stripe-secret-key']!(createRng(1)).line;
    const inline = scanText(source, { file: 'config.js' });
    expect(inline[0]).toMatchObject({ file: 'config.js', type: expect.any(String) });
  });

  it('the README policy is valid, and the policy SDK example decides on the demo findings and a real key inventory', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toBeTruthy();
    const dir = mkdtempSync(path.join(tmpdir(), 'kw-readme-'));
    try {
      writeFileSync(path.join(dir, 'keywarden.yml'), yaml ?? '');
      const backend = LocalBackend.open({ path: path.join(dir, 'keystore.db'), kek: randomBytes(32) });
      await backend.create({ spec: 'AES_256', alias: 'app' }, { idempotencyKey: 'readme-1' });
      const { findings } = await scan({ path: path.resolve('.keywarden/demo/sample-app') });

      const engine = await createPolicyEngine({ ast: await readPolicy(path.join(dir, 'keywarden.yml')) });
      engine.setKeyInventory(policyKeysFrom(await backend.inventory()));
      const decision = engine.evaluate({ now: new Date().toISOString(), findings, repo: { visibility: 'private' }, event: { branch: 'main' } });
      await backend.close();

      const leaked = findings.filter((f) => f.type === 'aws-access-key');
      expect(leaked.length).toBeGreaterThan(0);
      expect(decision.actions.filter((a) => a.type === 'rotate').map((a) => a.subject.fingerprint).sort()).toEqual(leaked.map((f) => f.fingerprint).sort());
      // Redacted previews only: the raw key the demo planted appears nowhere in the decision.
      const at = leaked[0];
      const line = readFileSync(path.join('.keywarden/demo/sample-app', at?.file ?? ''), 'utf8').split('\n')[(at?.startLine ?? 1) - 1] ?? '';
      const raw = at && at.endLine === at.startLine ? line.slice(at.startColumn - 1, at.endColumn - 1) : undefined;
      expect(raw?.length).toBeGreaterThan(15);
      expect(JSON.stringify(decision)).not.toContain(raw);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
