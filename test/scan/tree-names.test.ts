/**
 * A tree cannot hide a secret behind its file names: names that are not UTF-8, or that hold a
 * newline or an escape sequence, are scanned and reported, and the text output escapes them so a
 * name can neither forge a line nor drive the terminal. Real files, real git repositories.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scan } from '../../src/scan/scan.js';
import { formatText } from '../../src/scan/format/text.js';
import { fileUri, formatSarif } from '../../src/scan/format/sarif.js';
import { selectDetectors } from '../../src/scan/select-detectors.js';
import { awsKeys, git } from '../helpers/git-repo.js';

const detectors = { include: ['aws-access-key-id'] };
const awsKey = awsKeys('tree-names');

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-tree-names-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh directory; with `mode` 'git' a repository where the files are committed. */
function makeTree(mode: 'plain' | 'git' | 'untracked', files: [Buffer, string][]): string {
  const root = path.join(dir, `t${n++}`);
  mkdirSync(root);
  if (mode !== 'plain') git(root, 'init', '-q', '-b', 'main');
  for (const [name, content] of files) writeFileSync(Buffer.concat([Buffer.from(`${root}/`), name]), content);
  if (mode === 'git') {
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'names');
  }
  return root;
}

const modes = ['plain', 'git', 'untracked'] as const;

describe.each(modes)('file names (%s tree)', (mode) => {
  it('a name that is not valid UTF-8 is scanned, shown with \\xNN escapes, and percent-encoded in SARIF', async () => {
    const key = awsKey();
    const name = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9, 0xff]), Buffer.from('.env')]);
    const root = makeTree(mode, [[name, `KEY=${key}\n`], [Buffer.from('ok.txt'), 'nothing\n']]);
    const r = await scan({ path: root, detectors, workers: 0 });
    expect(r.findings.map((f) => [f.file, f.startLine])).toEqual([['caf\\xe9\\xff.env', 1]]);
    expect(r.summary.skipped).toBe(0);
    expect(fileUri(r.findings[0]!.file)).toBe('caf%E9%FF.env');
    const sarif = JSON.parse(formatSarif(r, selectDetectors(detectors))) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    expect(sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('caf%E9%FF.env');
  });

  it('a name with a newline and an escape sequence is scanned; text output shows it escaped, with no raw ESC or newline', async () => {
    const key = awsKey();
    const evil = 'x\n\u001b[2J\u001b[32m✔ no secrets found\u001b[0m\u202e.txt';
    const root = makeTree(mode, [[Buffer.from(evil), `token ${key}\n`]]);
    const r = await scan({ path: root, detectors, workers: 2 });
    expect(r.findings.map((f) => f.file)).toEqual([evil]); // JSON carries it exactly, escaped by JSON itself
    expect(JSON.stringify(r.findings)).not.toContain('\u001b');
    const text = formatText(r, { color: false });
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u202e');
    expect(text).toContain('x\\n\\x1b[2J\\x1b[32m✔ no secrets found\\x1b[0m\\u202e.txt');
    // The name forged no line: the only lines are the file, its finding, a blank and the summary.
    expect(text.trimEnd().split('\n')).toHaveLength(4);
    expect(fileUri(evil)).toBe(`x%0A%1B%5B2J%1B%5B32m${encodeURIComponent('✔')}%20no%20secrets%20found%1B%5B0m%E2%80%AE.txt`);
  });
});

describe('SARIF URIs', () => {
  it('percent-encodes what would change a URI, and keeps the path readable', () => {
    expect(fileUri('src/a b#c?d%e:f.js')).toBe('src/a%20b%23c%3Fd%25e%3Af.js');
    expect(fileUri('dir\\\\x.txt')).toBe('dir%5C%5Cx.txt'); // a valid name's own backslashes
    expect(fileUri('dir/\\xe9\\\\.txt')).toBe('dir/%E9%5C.txt'); // an escaped name stands for its bytes
  });
});
