/**
 * `--history` reports one finding per secret and path, at the commit that introduced it, with the
 * number of places it occurs; `--all-occurrences` lists them all (issue 11). Real git repositories.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scan } from '../../src/scan/scan.js';
import type { DetectorSelection } from '../../src/scan/select-detectors.js';
import type { HistoryFinding } from '../../src/scan/types.js';
import { formatSarif } from '../../src/scan/format/sarif.js';
import { formatSummary, formatText } from '../../src/scan/format/text.js';

const selection: DetectorSelection = { builtins: false, custom: [{ id: 'test-token', pattern: '\\btstk_[A-Za-z0-9]{24}\\b' }] };
const tok = (): string => `tstk_${randomBytes(40).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-history-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function repo(name: string): { root: string; commit: (msg: string, files: Record<string, string>, date?: string) => string } {
  const root = path.join(dir, name);
  mkdirSync(root, { recursive: true });
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.test', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.test' };
  const git = (args: string[], extra: Record<string, string> = {}): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', env: { ...env, ...extra } }).trim();
  git(['init', '-q', '-b', 'main']);
  return {
    root,
    commit(msg, files, date) {
      for (const [rel, content] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        writeFileSync(path.join(root, rel), content);
      }
      git(['add', '-A']);
      const dates = date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {};
      git(['commit', '-q', '-m', msg], dates);
      return git(['rev-parse', 'HEAD']);
    },
  };
}

describe('history: one finding per secret and path', () => {
  it('reports the secret once, at the commit that added it, with how often it occurs', async () => {
    const t = tok();
    const r = repo('dedupe');
    const first = r.commit('add', { 'config.js': `const k = "${t}";\n` });
    // Ten more versions of the file keep the secret (each a new blob).
    for (let i = 0; i < 10; i++) r.commit(`edit ${i}`, { 'config.js': `// v${i}\nconst k = "${t}";\n` });
    // The same secret at a second path is a second finding.
    r.commit('copy', { 'copy/config.js': `k = "${t}"\n` });

    const res = await scan({ path: r.root, detectors: selection, workers: 0, git: { history: true } });
    const found = res.findings as HistoryFinding[];
    expect(found.map((f) => [f.file, f.commit])).toEqual(
      expect.arrayContaining([
        ['config.js', first],
        ['copy/config.js', expect.any(String)],
      ]),
    );
    expect(found).toHaveLength(2);
    const main = found.find((f) => f.file === 'config.js')!;
    expect(main.occurrences).toEqual({ count: 11, commits: 11 });
    expect(res.summary.findings).toBe(2);
    expect(res.summary.occurrences).toBe(12);
    expect(formatSummary(res.summary, false)).toContain('12 occurrences in the history; --all-occurrences lists each');
    expect(formatText(res, { color: false })).toContain('found 11 times in 11 commits (first shown)');
    const sarif = JSON.parse(formatSarif(res, [])) as { runs: { results: { properties: { occurrences?: unknown } }[] }[] };
    expect(sarif.runs[0]!.results.map((x) => x.properties.occurrences)).toEqual(expect.arrayContaining([{ count: 11, commits: 11 }]));
  });

  it('with allOccurrences lists every version that holds it', async () => {
    const t = tok();
    const r = repo('all');
    r.commit('add', { 'a.env': `T=${t}\n` });
    for (let i = 0; i < 4; i++) r.commit(`edit ${i}`, { 'a.env': `# ${i}\nT=${t}\n` });
    const res = await scan({ path: r.root, detectors: selection, workers: 0, git: { history: true }, allOccurrences: true });
    expect(res.findings).toHaveLength(5);
    expect(res.summary.occurrences).toBeUndefined();
  });

  it('"first" is the parent, even when a child commit carries an older date', async () => {
    const t = tok();
    const r = repo('dates');
    const parent = r.commit('add', { 'k.txt': `${t}\n` }, '2030-01-01T00:00:00Z');
    r.commit('child with a forged older date', { 'k.txt': `x\n${t}\n` }, '2001-01-01T00:00:00Z');
    const res = await scan({ path: r.root, detectors: selection, workers: 2, git: { history: true } });
    expect(res.findings.map((f) => f.commit)).toEqual([parent]);
  });

  it('different secrets at one path stay separate findings', async () => {
    const [a, b] = [tok(), tok()];
    const r = repo('two');
    r.commit('a', { 'k.txt': `${a}\n` });
    r.commit('b', { 'k.txt': `${a}\n${b}\n` });
    const res = await scan({ path: r.root, detectors: selection, workers: 0, git: { history: true } });
    expect(res.findings.map((f) => (f as HistoryFinding).occurrences?.count)).toEqual(expect.arrayContaining([2, 1]));
    expect(res.findings).toHaveLength(2);
  });
});
