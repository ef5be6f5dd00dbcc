import { describe, expect, it } from 'vitest';
import { fingerprintSecret, redactSecret } from '../../src/scan/redact.js';
import { patchFile, renderRemediation, type PatchFileInput, type RemediationSummary } from '../../src/remediate/index.js';
import { fakePem, fakeSecret, siteOf } from './helpers.js';

function summaryFor(secret: string, pem: string): RemediationSummary {
  return {
    findings: [
      {
        redacted: redactSecret(secret),
        type: 'aws-access-key',
        file: 'src/config.ts',
        line: 12,
        fingerprint: fingerprintSecret(secret),
        actions: [`AWS access key ${redactSecret(secret)} of IAM user ci-bot: deactivated`],
        rule: { id: 'leak-aws', file: '.github/keywarden.yml', line: 14 },
        patch: 'replaced',
      },
      {
        redacted: redactSecret(pem),
        type: 'private-key',
        file: 'deploy/id_rsa',
        line: 1,
        fingerprint: fingerprintSecret(pem),
        actions: ['local key app-signing version 1: revoked; version 2 is current'],
        patch: 'removed',
      },
    ],
    filesChanged: ['src/config.ts', '.env.example', '.gitignore'],
    filesRemoved: ['deploy/id_rsa'],
    envAdded: ['AWS_ACCESS_KEY'],
  };
}

describe('renderRemediation', () => {
  it('says what was done, by which rule, and how to rewrite history', () => {
    const secret = fakeSecret('AKIA', 16);
    const pem = fakePem('render-1');
    const { commitMessage, markdown } = renderRemediation(summaryFor(secret, pem));
    expect(commitMessage.split('\n')[0]).toBe('Remove 2 leaked secrets from the code');
    expect(commitMessage).toContain(`aws-access-key ${redactSecret(secret)} in src/config.ts:12 (sha256:${fingerprintSecret(secret).slice(7, 19)})`);
    expect(markdown).toContain('Required by the policy rule `leak-aws` at `.github/keywarden.yml:14`');
    expect(markdown).toContain('of IAM user ci-bot: deactivated');
    expect(markdown).toContain('still in git history');
    expect(markdown).toContain('A revoked credential in history can no longer be used');
    expect(markdown).toContain("git filter-repo --replace-text '../keywarden-replacements.txt' --invert-paths --path 'deploy/id_rsa'\n");
    expect(markdown).toContain(`${redactSecret(secret)}==>REMOVED`);
    expect(markdown).toContain('never writes a secret');
    expect(markdown).toContain('- `AWS_ACCESS_KEY`');
  });

  it('hostile paths and rule ids cannot forge lines, links or HTML', () => {
    const secret = fakeSecret();
    const s = summaryFor(secret, fakePem('render-2'));
    s.findings[0]!.file = 'src/a`b\nSigned-off-by: x <x@y>.ts';
    s.findings[0]!.rule = { id: '[click](http://evil)<img src=x>', file: 'p.yml', line: 1 };
    s.filesRemoved = ["it's\nrm -rf ~"];
    const { commitMessage, markdown } = renderRemediation(s);
    expect(commitMessage).not.toMatch(/^Signed-off-by/m);
    expect(markdown).not.toMatch(/^Signed-off-by/m);
    // In a code span, where markdown makes no link and no HTML of it.
    expect(markdown).toContain('`[click](http://evil)<img src=x>`');
    expect(markdown).toContain("--path 'it'\\''s\\u{a}rm -rf ~'");
  });
});

describe('canary: no output carries the secret', () => {
  it('patchFile (every kind) and renderRemediation', () => {
    const canary = fakeSecret('kwcanary_', 40);
    const pem = fakePem('canary-pem');
    const inputs: PatchFileInput[] = [
      ['src/a.ts', `const canaryToken = '${canary}';\nconst url = "https://x/${canary}";\n// ${canary}\n`],
      ['src/broken.js', `function ( {\nconst t = '${canary}';\n`],
      ['config.json', `{"token": "${canary}"}`],
      ['values.yaml', `token: ${canary}\nlist: [${canary}]\n`],
      ['app.properties', `token=${canary}\n`],
      ['x.tfvars', `token = "${canary}"\n`],
      ['.env', `TOKEN=${canary}\n`],
      ['.env.example', `TOKEN=${canary}\n`],
      ['key.ts', `export const k = \`${pem}\`;\n`],
    ].map(([path, text]) => ({
      path: path!,
      text: text!,
      sites: [...text!.matchAll(new RegExp(canary, 'g'))].map((_, nth) => siteOf(text!, canary, { nth })).concat(text!.includes(pem) ? [siteOf(text!, pem)] : []),
    }));
    const outputs: string[] = [];
    for (const input of inputs) {
      const r = patchFile(input);
      expect(r.action).not.toBe('none');
      outputs.push(JSON.stringify(r));
    }
    const { commitMessage, markdown } = renderRemediation(summaryFor(canary, pem));
    outputs.push(commitMessage, markdown);
    for (const out of outputs) {
      expect(out).not.toContain(canary);
      expect(out).not.toContain(pem);
      // Not even the middle of the canary (more than a preview shows).
      expect(out).not.toContain(canary.slice(8, 24));
      expect(out).not.toContain(pem.split('\n')[1]);
    }
  });
});
