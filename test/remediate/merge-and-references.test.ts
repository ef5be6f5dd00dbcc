import { describe, expect, it } from 'vitest';
import { mergeEnvExample, mergeGitignore, updateReferences } from '../../src/remediate/index.js';

describe('mergeEnvExample', () => {
  it('adds NAME= lines, keeps existing content byte for byte, never duplicates', () => {
    const existing = '# App\nPORT=3000\nexport STRIPE_SECRET=\n# OLD_NAME=\n';
    const out = mergeEnvExample(existing, [
      { name: 'STRIPE_SECRET' },
      { name: 'OLD_NAME' },
      { name: 'GITHUB_TOKEN', comment: 'GitHub token for CI\n(rotated)' },
      { name: 'GITHUB_TOKEN' },
    ]);
    expect(out).toBe('# App\nPORT=3000\nexport STRIPE_SECRET=\n# OLD_NAME=\n# GitHub token for CI (rotated)\nGITHUB_TOKEN=\n');
    expect(mergeEnvExample(out, [{ name: 'GITHUB_TOKEN' }])).toBe(out);
  });

  it('creates the file, keeps CRLF and a missing final newline', () => {
    expect(mergeEnvExample(undefined, [{ name: 'A' }])).toBe('A=\n');
    expect(mergeEnvExample('X=1\r\nY=2', [{ name: 'A' }, { name: 'B' }])).toBe('X=1\r\nY=2\r\nA=\r\nB=\r\n');
    expect(mergeEnvExample('X=1\n', [])).toBe('X=1\n');
  });

  it('refuses a name that could inject a line', () => {
    expect(() => mergeEnvExample('', [{ name: 'A=1\nB' }])).toThrow(expect.objectContaining({ code: 'KW_INVALID_ARGUMENT' }));
  });
});

describe('mergeGitignore', () => {
  it('is idempotent and keeps existing lines', () => {
    const once = mergeGitignore('node_modules/\r\n/.env\r\n', ['/.env', '/deploy/id_rsa']);
    expect(once).toBe('node_modules/\r\n/.env\r\n# Files that held leaked secrets (Keywarden)\r\n/deploy/id_rsa\r\n');
    expect(mergeGitignore(once, ['/.env', '/deploy/id_rsa'])).toBe(once);
    const twice = mergeGitignore(once, ['/terraform.tfstate']);
    expect(twice).toBe(`${once}/terraform.tfstate\r\n`);
    expect(mergeGitignore(undefined, ['/a'])).toBe('# Files that held leaked secrets (Keywarden)\n/a\n');
    expect(mergeGitignore(undefined, [])).toBe('');
  });

  it('refuses a line with a line break', () => {
    expect(() => mergeGitignore('', ['/a\n!b'])).toThrow(expect.objectContaining({ code: 'KW_INVALID_ARGUMENT' }));
  });
});

describe('updateReferences', () => {
  const id = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const newId = '9999ffff-12ab-34cd-56ef-1234567890ab';

  it('rewrites whole key ids only, not an id that continues them', () => {
    const text = `keyId: "${id}"\nother: "${id}-x"\nthird: "x${id}"\nlist: [${id}]\n`;
    const r = updateReferences(text, [{ from: id, to: newId }]);
    expect(r).toEqual({ text: `keyId: "${newId}"\nother: "${id}-x"\nthird: "x${id}"\nlist: [${newId}]\n`, count: 2 });
  });

  it('alias/app is not rewritten inside alias/app-data or alias/app/v2', () => {
    const text = "const a = 'alias/app';\nconst b = 'alias/app-data';\nconst c = 'alias/app/v2';\nconst d = 'alias/app.'\n";
    const r = updateReferences(text, [{ from: 'alias/app', to: 'alias/app-2026' }]);
    expect(r.text).toBe("const a = 'alias/app-2026';\nconst b = 'alias/app-data';\nconst c = 'alias/app/v2';\nconst d = 'alias/app-2026.'\n");
    expect(r.count).toBe(2);
  });

  it('ARNs: a whole ARN wins over the id inside it; the id alone inside an ARN is rewritten', () => {
    const arn = `arn:aws:kms:eu-west-1:111122223333:key/${id}`;
    const newArn = `arn:aws:kms:eu-west-1:111122223333:key/${newId}`;
    const text = `a = "${arn}"\nb = "${id}"\nc = "${arn}-old"\n`;
    const r = updateReferences(text, [
      { from: id, to: newId },
      { from: arn, to: newArn },
    ]);
    expect(r.text).toBe(`a = "${newArn}"\nb = "${newId}"\nc = "${arn}-old"\n`);
    expect(r.count).toBe(2);
    // Only the id given: the same key's ARN follows it.
    expect(updateReferences(`x = "${arn}"`, [{ from: id, to: newId }]).text).toBe(`x = "${newArn}"`);
  });

  it('one pass: a replacement is never matched again; nothing to do returns the text as it is', () => {
    const r = updateReferences('key-a key-b', [
      { from: 'key-a', to: 'key-b' },
      { from: 'key-b', to: 'key-c' },
    ]);
    expect(r).toEqual({ text: 'key-b key-c', count: 2 });
    expect(updateReferences('nothing here', [{ from: id, to: newId }])).toEqual({ text: 'nothing here', count: 0 });
    expect(() => updateReferences('x', [{ from: '', to: 'y' }])).toThrow(expect.objectContaining({ code: 'KW_INVALID_ARGUMENT' }));
  });
});
