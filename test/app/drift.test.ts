/**
 * Drift on the default branch, on the policy's schedule (`drift: { every: 1h }`), against moto's
 * KMS: a push to the default branch queues the slot's drift job; it compares the declared keys
 * with the live ones and writes a `keywarden/drift` check on the tip, an annotation at each
 * declaration that disagrees with both values; it queues the next slot's job, due at the slot's
 * start; more pushes in the same slot do not run it again; a policy without `drift:` queues none.
 */
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppHarness, type AppHarness } from '../helpers/app-harness.js';
import { useMotoCredentials } from '../helpers/respond-aws.js';
import { motoSkipReason, startMoto, type MotoServer } from '../setup/moto.js';

const POLICY = 'version: 1\nname: drifting\ndrift:\n  every: 1h\n';
const TF = `resource "aws_kms_key" "data" {
  description             = "data"
  enable_key_rotation     = true
  rotation_period_in_days = 90
}

resource "aws_kms_alias" "data" {
  name          = "alias/app-data"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_kms_key" "gone" {
  enable_key_rotation = true
}

resource "aws_kms_alias" "gone" {
  name          = "alias/app-gone"
  target_key_id = aws_kms_key.gone.key_id
}
`;

describe.skipIf(motoSkipReason !== undefined)(`the App reports drift on the default branch (moto)${motoSkipReason ? ` (skipped: ${motoSkipReason})` : ''}`, () => {
  let moto: MotoServer;
  let kms: KMSClient;
  let restore: () => void;
  let h: AppHarness;
  // Until no due job is queued and none runs (the next slot's drift job waits in the queue).
  const settled = async (): Promise<void> => {
    for (;;) {
      await h.app.worker.idle();
      const st = await h.app.queue.stats();
      if (st.due === 0 && st.running === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const push = async (repo: string, files: Record<string, string>): Promise<string> => {
    const before = (await h.gh.refSha('acme', repo, 'heads/main'))!;
    const after = await h.gh.commit('acme', repo, { branch: 'main', files });
    expect((await h.deliver(await h.gh.pushEvent('acme', repo, { before, after }))).status).toBe(202);
    await settled();
    return after;
  };
  const driftChecks = (repo: string) => h.gh.checkRuns('acme', repo).filter((c) => c.name === 'keywarden/drift');

  beforeAll(async () => {
    moto = await startMoto();
    restore = useMotoCredentials(moto);
    kms = new KMSClient({ region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials });
    const id = (await kms.send(new CreateKeyCommand({ Description: 'data' }))).KeyMetadata!.KeyId!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app-data', TargetKeyId: id }));
    h = await createAppHarness({
      env: { KEYWARDEN_BACKEND: 'aws-kms', KEYWARDEN_AWS_REGION: moto.region, KEYWARDEN_AWS_ENDPOINT: moto.endpoint, AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey },
    });
    await h.gh.createRepo('acme', 'platform', { files: { '.github/keywarden.yml': POLICY, 'README.md': '# platform\n' } });
    await h.gh.createRepo('acme', 'quiet', { files: { '.github/keywarden.yml': 'version: 1\nname: quiet\n', 'infra/kms.tf': TF } });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    restore?.();
    kms?.destroy();
    await moto?.stop();
  });

  it('checks the tip for drift once per slot, annotating each disagreement, and queues the next slot', async () => {
    const tip = await push('platform', { 'infra/kms.tf': TF });
    const checks = driftChecks('platform');
    expect(checks).toHaveLength(1);
    const check = checks[0]!;
    expect(check.head_sha).toBe(tip);
    expect(check.conclusion).toBe('failure');
    expect(check.annotations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'infra/kms.tf', start_line: 3, annotation_level: 'failure', title: 'Drift: rotation (aws_kms_key.data)', message: expect.stringContaining('Declared: on; live: off.') }),
        expect.objectContaining({ path: 'infra/kms.tf', start_line: 12, title: 'Drift: missing (aws_kms_key.gone)' }),
      ]),
    );
    // The next slot's job waits in the queue, due at the next full hour.
    const st = await h.app.queue.stats();
    expect(st.queued - st.due).toBeGreaterThanOrEqual(1);
    // Another push in the same slot does not compare again.
    await push('platform', { 'README.md': '# platform, again\n' });
    expect(driftChecks('platform')).toHaveLength(1);
  }, 90_000);

  it('queues nothing for a policy without drift:', async () => {
    const before = (await h.app.queue.stats()).queued;
    await push('quiet', { 'README.md': '# quiet\n' });
    expect(driftChecks('quiet')).toEqual([]);
    expect((await h.app.queue.stats()).queued).toBe(before);
  }, 60_000);
});
