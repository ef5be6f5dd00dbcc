/**
 * `.gitignore` rules of a tree scan (issue 11): inside a git work tree, what git would commit is
 * scanned and what the `.gitignore` files exclude is counted; outside one, a `.gitignore` means
 * nothing to git and everything is scanned unless `--gitignore` is given. Real git, real files,
 * the CLI's own summary line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scan } from '../../src/scan/scan.js';
import type { DetectorSelection } from '../../src/scan/select-detectors.js';
import { formatSummary } from '../../src/scan/format/text.js';

const selection: DetectorSelection = { builtins: false, custom: [{ id: 'test-token', pattern: '\\btstk_[A-Za-z0-9]{24}\\b' }] };
const tok = (): string => `tstk_${randomBytes(40).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-gitignore-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = path.join(dir, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' });

/** An unpacked build context: the kind of tree whose secrets a `.gitignore` used to hide. */
function buildContext(name: string): { root: string; t: string[] } {
  const t = [tok(), tok(), tok(), tok(), tok()];
  const root = tree(name, {
    '.gitignore': '.env\n*.pem\n*.tfstate\ndist/\n',
    '.env': `API_TOKEN=${t[0]}\n`,
    'certs/server.pem': `token ${t[1]}\n`,
    'infra/prod.tfstate': `{"token": "${t[2]}"}\n`,
    'dist/main.js': `var k="${t[3]}";\n`,
    'src/app.js': `const k = "${t[4]}";\n`,
  });
  return { root, t };
}

describe('.gitignore outside a git work tree', () => {
  it('means nothing there: every file is scanned, nothing counted as ignored', async () => {
    const { root } = buildContext('unpacked');
    const r = await scan({ path: root, detectors: selection, workers: 0 });
    expect(r.findings.map((f) => f.file).sort()).toEqual(['.env', 'certs/server.pem', 'dist/main.js', 'infra/prod.tfstate', 'src/app.js']);
    expect(r.summary.skipped).toBe(0);
  });

  it('with gitignore: true is applied, and what it excludes is counted and named', async () => {
    const { root } = buildContext('unpacked-honoured');
    const r = await scan({ path: root, detectors: selection, workers: 0, gitignore: true });
    expect(r.findings.map((f) => f.file)).toEqual(['src/app.js']);
    expect(r.summary.skippedBy).toEqual({ gitignored: 4 });
    expect(r.skipped.map((s) => s.file).sort()).toEqual(['.env', 'certs/server.pem', 'dist/main.js', 'infra/prod.tfstate']);
    expect(formatSummary(r.summary, false)).toContain('4 ignored by .gitignore; --no-gitignore to scan them');
  });
});

describe('.gitignore inside a git work tree', () => {
  it('scans what git would commit (tracked, and untracked not ignored) and counts what it excludes', async () => {
    const { root, t } = buildContext('repo');
    git(root, 'init', '-q');
    // A tracked file matched by .gitignore is still committed content: it is scanned.
    writeFileSync(path.join(root, 'tracked.pem'), `${t[1]}\n`);
    git(root, 'add', '-f', 'tracked.pem', 'src/app.js', '.gitignore');
    writeFileSync(path.join(root, 'untracked.js'), `// ${t[4]}\n`);
    const r = await scan({ path: root, detectors: selection, workers: 0 });
    expect(r.findings.map((f) => f.file).sort()).toEqual(['src/app.js', 'tracked.pem', 'untracked.js']);
    expect(r.summary.skippedBy).toEqual({ gitignored: 4 });
    expect(formatSummary(r.summary, false)).toMatch(/4 ignored by \.gitignore; --no-gitignore to scan them/);
  });

  it('with gitignore: false scans the ignored files too', async () => {
    const { root } = buildContext('repo-all');
    git(root, 'init', '-q');
    const r = await scan({ path: root, detectors: selection, workers: 0, gitignore: false });
    expect(r.findings.map((f) => f.file).sort()).toEqual(['.env', 'certs/server.pem', 'dist/main.js', 'infra/prod.tfstate', 'src/app.js']);
    expect(r.summary.skippedBy.gitignored ?? 0).toBe(0);
  });

  it('counts every ignored file of a big ignored folder but lists only a bounded number', async () => {
    const files: Record<string, string> = { '.gitignore': 'node_modules/\n', 'index.js': 'ok\n' };
    for (let i = 0; i < 1_500; i++) files[`node_modules/p${i}/index.js`] = 'x\n';
    const root = tree('repo-big', files);
    git(root, 'init', '-q');
    const r = await scan({ path: root, detectors: selection, workers: 0 });
    expect(r.summary.skippedBy.gitignored).toBe(1_500);
    expect(r.skipped.filter((s) => s.reason === 'gitignored').length).toBeLessThanOrEqual(1_000);
  });

  it('a hostile .gitignore (a pattern for everything, a negation of .git) hides nothing silently', async () => {
    const t = tok();
    const root = tree('repo-hostile', { '.gitignore': '*\n!.git\n!.git/**\n', 'secret.txt': `${t}\n` });
    git(root, 'init', '-q');
    const r = await scan({ path: root, detectors: selection, workers: 0 });
    expect(r.findings).toEqual([]);
    // Everything is counted: the summary says what was not scanned and how to scan it.
    expect(r.summary.skippedBy.gitignored).toBe(2); // .gitignore itself and secret.txt
    const again = await scan({ path: root, detectors: selection, workers: 0, gitignore: false });
    expect(again.findings.map((f) => f.file)).toEqual(['secret.txt']);
  });
});
