/**
 * What the respond suites against moto share: an IAM access key the scanner recognises, the
 * policy and the committed file that leaks it, and moto's fake credentials in the process
 * environment.
 */
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { isPlausibleAwsSecret } from '../../src/scan/detectors/aws.js';
import type { MotoServer } from '../setup/moto.js';

/** What the scanner takes for a real access key ID (base32 after the prefix); moto's IDs may hold 0, 1, 8 and 9. */
const SCANNABLE_ID = /^AKIA[A-Z2-7]{16}$/;

/**
 * A user with one access key the scanner recognises: moto draws IDs from A–Z0–9, real AWS from
 * base32, so keys are drawn until one looks real (the others deleted again).
 */
export async function createLeakableAccessKey(iam: IAMClient, user: string): Promise<{ id: string; secret: string }> {
  await iam.send(new CreateUserCommand({ UserName: user }));
  for (let i = 0; i < 200; i++) {
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
    if (SCANNABLE_ID.test(k.AccessKeyId!) && isPlausibleAwsSecret(k.SecretAccessKey!)) return { id: k.AccessKeyId!, secret: k.SecretAccessKey! };
    await iam.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: k.AccessKeyId! }));
  }
  throw new Error('moto gave no scannable access key in 200 draws');
}

export function awsPolicy(region: string): string {
  return `version: 1
name: e2e-aws
backend: { kind: aws-kms, region: ${region} }
secrets:
  on-leak:
    - when: { type: aws-access-key }
      do: [revoke, rotate, open-pr]
      severity: critical
    - do: [open-pr]
`;
}

export const awsConfigFile = (id: string, secret: string): string =>
  `// deploy settings\nexport const aws = {\n  region: 'eu-west-1',\n  accessKeyId: '${id}',\n  secretAccessKey: '${secret}',\n};\n`;

/**
 * The AWS SDK's default credential chain reads the process environment, not the environment
 * handed to `main` (a gap: respond-aws.test.ts, "takes the AWS credentials from the environment it is given"): the fake moto credentials go into both.
 */
export function useMotoCredentials(moto: MotoServer): () => void {
  const saved = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
