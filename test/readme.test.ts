import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { scan, scanText } from '../src/index.js';
import { createRng, secretGenerators } from './fixtures/secrets/generators.js';

describe('README', () => {
  it('the main job (npm run demo) scans the sample repo and finds the planted secrets', () => {
    expect(existsSync('dist/cli/main.js'), 'npm test builds dist/ first').toBe(true);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/✖ \d+ findings in 3 files/);
    expect(r.stdout).toMatch(/commit [0-9a-f]{12} by Demo Dev/);
    expect(r.stdout).toContain('1 suppressed');
  });

  it('the SDK example works as written', async () => {
    const repo = path.resolve('.keywarden/demo/sample-app');
    const { findings, summary } = await scan({ path: repo, git: { range: 'HEAD~1..HEAD' } });
    expect(findings.length).toBeGreaterThan(0);
    expect(summary.commits).toBe(1);
    const source = secretGenerators['stripe-secret-key']!(createRng(1)).line;
    const inline = scanText(source, { file: 'config.js' });
    expect(inline[0]).toMatchObject({ file: 'config.js', type: expect.any(String) });
  });
});
