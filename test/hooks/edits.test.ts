/**
 * The pure parts of the hooks: the shell block, the YAML edits and the pre-push input parser.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cleanReason } from '../../src/hooks/bypass.js';
import { shellQuote } from '../../src/hooks/command.js';
import { parsePrePushInput } from '../../src/hooks/pre-push-input.js';
import { hookBlock, insertBlock, isShellScript, removeBlock } from '../../src/hooks/shell-block.js';
import { addLefthookCommand, addPreCommitHook, removeLefthookCommand } from '../../src/hooks/yaml-edit.js';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('shell block', () => {
  const block = hookBlock('pre-commit', "'/usr/bin/node' /kw/bin/keywarden.js");

  it('goes after the shebang, or at the top of a script without one, and comes out exactly', () => {
    for (const script of ['#!/bin/bash\nset -e\nnpm test\n', 'npm test\n', '#!/bin/sh', '']) {
      const added = insertBlock(script, block, 'f');
      expect(added.action).toBe('added');
      expect(added.text).toContain(block);
      const back = removeBlock(added.text, 'f');
      expect(back.removed).toBe(true);
      if (script !== '#!/bin/sh') expect(back.text).toBe(script);
    }
  });

  it('leaves a hand-edited or different block alone unless forced', () => {
    const other = hookBlock('pre-commit', '/old/node /old/keywarden.js');
    const script = `#!/bin/sh\n${other}echo hi\n`;
    expect(code(() => insertBlock(script, block, 'f'))).toBe('KW_HOOK_BLOCK_EDITED');
    expect(insertBlock(script, block, 'f', { force: true }).text).toBe(`#!/bin/sh\n${block}echo hi\n`);
    expect(code(() => removeBlock('# >>> keywarden >>>\necho\n', 'f'))).toBe('KW_HOOK_BLOCK_EDITED');
    expect(code(() => removeBlock(`${block}${block}`, 'f'))).toBe('KW_HOOK_BLOCK_EDITED');
  });

  it('knows a shell script from another language', () => {
    expect(isShellScript('#!/usr/bin/env bash\n')).toBe(true);
    expect(isShellScript('#!/bin/sh -e\n')).toBe(true);
    expect(isShellScript('echo husky style\n')).toBe(true);
    expect(isShellScript('#!/usr/bin/env python3\n')).toBe(false);
    expect(isShellScript('#!/usr/bin/env -S node --flag\n')).toBe(false);
  });

  it('quotes paths for the shell', () => {
    expect(shellQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellQuote("/a b/it's")).toBe("'/a b/it'\\''s'");
    expect(shellQuote('$(rm -rf ~)')).toBe("'$(rm -rf ~)'");
  });
});

describe('YAML edits', () => {
  it('falls back to the Document API for flow style, keeping the meaning', () => {
    const r = addLefthookCommand('pre-commit: {commands: {lint: {run: x}}} # flow\n', 'l.yml', 'pre-commit', 'kw');
    expect(r.normalized).toBe(true);
    expect(parse(r.text)).toEqual({ 'pre-commit': { commands: { lint: { run: 'x' }, keywarden: { run: 'kw hook run pre-commit' } } } });
    expect(r.text).toContain('# flow');
    const back = removeLefthookCommand(r.text, 'l.yml', 'pre-commit');
    expect(parse(back.text)).toEqual({ 'pre-commit': { commands: { lint: { run: 'x' } } } });
  });

  it('creates the file content when empty, and refuses a team\'s own "keywarden" entry unless forced', () => {
    expect(parse(addPreCommitHook('', 'p.yaml', 'pre-push', 'kw').text)).toMatchObject({ repos: [{ repo: 'local', hooks: [{ id: 'keywarden', stages: ['pre-push'] }] }] });
    const own = 'pre-commit:\n  commands:\n    keywarden:\n      run: keywarden scan --staged\n';
    expect(code(() => addLefthookCommand(own, 'l.yml', 'pre-commit', 'kw'))).toBe('KW_HOOK_BLOCK_EDITED');
    expect(parse(addLefthookCommand(own, 'l.yml', 'pre-commit', 'kw', { force: true }).text)).toEqual({ 'pre-commit': { commands: { keywarden: { run: 'kw hook run pre-commit' } } } });
    // Not ours (it does not run "hook run"): uninstall leaves it.
    expect(removeLefthookCommand(own, 'l.yml', 'pre-commit').text).toBe(own);
  });

  it('refuses YAML it cannot parse, with a position', () => {
    expect(code(() => addLefthookCommand('pre-commit: [\n', 'l.yml', 'pre-commit', 'kw'))).toBe('KW_HOOK_CONFIG_INVALID');
  });
});

describe('pre-push input', () => {
  const a = 'a'.repeat(40);
  const z = '0'.repeat(40);

  it('parses git\'s lines, sha-1 and sha-256', () => {
    const b = 'b'.repeat(64);
    expect(parsePrePushInput(`refs/heads/main ${a} refs/heads/main ${z}\n(delete) ${z} refs/heads/old ${a}\n\nrefs/tags/v1 ${b} refs/tags/v1 ${'0'.repeat(64)}\n`)).toEqual([
      { localRef: 'refs/heads/main', localSha: a, remoteRef: 'refs/heads/main', remoteSha: z },
      { localRef: '(delete)', localSha: z, remoteRef: 'refs/heads/old', remoteSha: a },
      { localRef: 'refs/tags/v1', localSha: b, remoteRef: 'refs/tags/v1', remoteSha: '0'.repeat(64) },
    ]);
  });

  it.each([
    ['an option', `r --output=x r ${z}`],
    ['a revision expression', `r HEAD~1 r ${z}`],
    ['upper case hex', `r ${a.toUpperCase()} r ${z}`],
    ['a short id', `r ${a.slice(0, 12)} r ${z}`],
    ['three fields', `r ${a} r`],
    ['a tab', `r\t${a} r ${z}`],
  ])('refuses %s', (_what, line) => {
    expect(code(() => parsePrePushInput(`${line}\n`))).toBe('KW_HOOK_INPUT_INVALID');
  });
});

describe('bypass reason', () => {
  it('strips control characters and bidirectional overrides', () => {
    expect(cleanReason('  fixture\u0000 key\u202e\r\n ok ')).toBe('fixture key ok');
  });
});
