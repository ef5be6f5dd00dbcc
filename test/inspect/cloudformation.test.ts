/**
 * CloudFormation → facts, from YAML with the short-form intrinsic tags and from JSON as CDK
 * synthesises it: `Ref` to a parameter with a literal Default resolves, `Fn::Sub`/`Fn::Join` keep
 * unresolved parts in place, `Fn::If` follows its condition (or both branches when they agree),
 * `Fn::FindInMap`/`Fn::Select` read literal data, `AWS::NoValue` leaves a property out, a
 * resource whose condition is false is not read; other intrinsics are unknown; each value at its
 * property.
 */
import { describe, expect, it } from 'vitest';
import { inspectFile } from '../../src/inspect/index.js';
import { factNamed, fixture, valueOf } from './helpers.js';

describe('YAML templates', () => {
  const r = inspectFile('cloudformation/kms.yaml', fixture('cloudformation/kms.yaml'));

  it('reads keys and aliases at their logical ids, values at their properties', () => {
    expect(r.problems).toEqual([]);
    const key = factNamed(r, 'key', 'OrdersKey');
    expect(key).toMatchObject({ file: 'cloudformation/kms.yaml', line: 18, column: 3, format: 'cloudformation', resourceType: 'AWS::KMS::Key', provider: 'aws' });
    expect(key.rotationEnabled).toEqual({ state: 'known', value: true, line: 22, column: 7 });
    expect(valueOf(key.rotationPeriodDays)).toBe(90);
    // !Ref to a parameter with a literal Default.
    expect(key.deletionWindowDays).toEqual({ state: 'known', value: 30, line: 24, column: 7 });
    // !If on a condition over a parameter with a literal Default (Environment: prod), as Ref reads it.
    expect(valueOf(key.multiRegion)).toBe(true);
    expect(valueOf(key.family)).toBe('symmetric');
    expect(key.aliases).toEqual(['alias/orders-prod']);
  });

  it('normalises the key policy: Sub and Join keep pseudo parameters, a Ref without Default is unknown', () => {
    const [root, admin, use] = valueOf(factNamed(r, 'key', 'OrdersKey').policy);
    expect(root).toMatchObject({ sid: 'EnableRootAccess', line: 29, column: 13 });
    expect(valueOf(root!.principals)).toEqual(['arn:${AWS::Partition}:iam::${AWS::AccountId}:root']);
    expect(admin!.principals).toMatchObject({ state: 'unknown', reason: 'the parameter AdminRoleArn has no Default (it is set at deploy time)' });
    expect(valueOf(admin!.actions)).toEqual(['kms:Create*', 'kms:Put*', 'kms:ScheduleKeyDeletion']);
    expect(valueOf(use!.principals)).toEqual(['arn:aws:iam::${AWS::AccountId}:role/orders-api']);
  });

  it('reads a KeyPolicy given as a JSON string, and the spec and usage', () => {
    const key = factNamed(r, 'key', 'SigningKey');
    expect(valueOf(key.rsaBits)).toBe(3072);
    expect(valueOf(key.usage)).toBe('sign-verify');
    expect(valueOf(key.deletionWindowDays)).toBe(7);
    expect(valueOf(valueOf(key.policy)[0]!.principals)).toEqual(['*']);
    expect(key.rotationEnabled).toEqual({ state: 'absent' });
  });

  it('links the alias by !Ref', () => {
    const alias = factNamed(r, 'alias', 'OrdersAlias');
    expect(alias.targetKey).toBe('OrdersKey');
    expect(alias.targetKeyId).toMatchObject({ state: 'unknown', reason: 'Ref OrdersKey is known only after deploy' });
  });
});

describe('conditions and lookups', () => {
  const tpl = (body: string): ReturnType<typeof inspectFile> => inspectFile('t.yaml', `AWSTemplateFormatVersion: "2010-09-09"\n${body}`);
  const HEAD = `Parameters:
  Env: { Type: String, Default: dev }
  Tier: { Type: String }
Mappings:
  EnvSettings:
    dev: { Rotation: 365, Window: 7 }
    prod: { Rotation: 90, Window: 30 }
Conditions:
  Always: !Equals [on, on]
  Never: !Not [!Condition Always]
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  IsGold: !Equals [!Ref Tier, gold]
  ProdOrGold: !Or [!Condition IsProd, !Condition IsGold]
  DevAndGold: !And [!Condition IsDev, !Condition IsGold]
  Loop: !Condition Loop
`;
  /** The key `Key` of a template with HEAD's parameters, mappings and conditions, and these properties (one per line). */
  const keyWith = (...props: string[]) => {
    const r = tpl(`${HEAD}Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n${props.map((p) => `      ${p}\n`).join('')}`);
    return { r, key: factNamed(r, 'key', 'Key') };
  };

  it('follows Fn::If by a condition the template fixes, reads FindInMap and Select, and leaves NoValue out', () => {
    const { r, key } = keyWith(
      'EnableKeyRotation: !If [Always, true, false]',
      'RotationPeriodInDays: !FindInMap [EnvSettings, !Ref Env, Rotation]',
      'PendingWindowInDays: !Select [1, [30, 7, 14]]',
      'MultiRegion: !If [Never, true, !Ref AWS::NoValue]',
      'Enabled: !Select [-1, [true]]',
    );
    expect(r.problems).toEqual([]);
    expect(valueOf(key.rotationEnabled)).toBe(true);
    expect(valueOf(key.rotationPeriodDays)).toBe(365);
    expect(valueOf(key.deletionWindowDays)).toBe(7);
    expect(key.multiRegion).toEqual({ state: 'absent' });
    // A negative index is not an element.
    expect(key.extra.enabled).toMatchObject({ state: 'unknown' });
  });

  it('decides Fn::If over a parameter by its Default, as Ref does', () => {
    expect(valueOf(keyWith('EnableKeyRotation: !If [IsDev, true, false]').key.rotationEnabled)).toBe(true);
  });

  it('is unknown on a condition over a parameter without a Default, unless both branches agree; Or and And short-circuit', () => {
    const { key } = keyWith(
      'EnableKeyRotation: !If [IsGold, true, true]',
      'RotationPeriodInDays: !If [IsGold, 90, 180]',
      'MultiRegion: !If [DevAndGold, true, false]',
      'Enabled: !If [ProdOrGold, true, false]',
      'PendingWindowInDays: !If [Loop, 7, 30]',
    );
    expect(valueOf(key.rotationEnabled)).toBe(true);
    expect(key.rotationPeriodDays).toMatchObject({ state: 'unknown', reason: expect.stringContaining('Tier has no Default') });
    expect(key.multiRegion).toMatchObject({ state: 'unknown' });
    expect(key.extra.enabled).toMatchObject({ state: 'unknown' });
    expect(key.deletionWindowDays).toMatchObject({ state: 'unknown', reason: expect.stringContaining('refers to itself') });
  });

  it('holds against a condition bomb: each condition doubles the last, 60 deep, within the evaluation budget (no hang: the test timeout)', { timeout: 20_000 }, () => {
    const conds = Array.from({ length: 60 }, (_, i) => (i === 0 ? '  C0: !Equals [!Ref Tier, gold]' : `  C${i}: !And [!Condition C${i - 1}, !Condition C${i - 1}]`)).join('\n');
    const r = inspectFile('bomb.yaml', `Parameters:\n  Tier: { Type: String }\nConditions:\n${conds}\nResources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: !If [C59, true, false]\n`);
    expect(factNamed(r, 'key', 'K').rotationEnabled).toMatchObject({ state: 'unknown' });
  });

  it('leaves out a resource whose Condition is false whatever the parameters, and reads one that a deployment may create', () => {
    const r = tpl(`${HEAD}Resources:
  NeverMade:
    Type: AWS::KMS::Key
    Condition: Never
    Properties: { EnableKeyRotation: false }
  ProdOnly:
    Type: AWS::KMS::Key
    Condition: IsProd
    Properties: { EnableKeyRotation: false }
`);
    expect(r.facts.map((f) => f.name)).toEqual(['ProdOnly']);
  });
});

describe('JSON templates (CDK synth output)', () => {
  const r = inspectFile('cloudformation/cdk.template.json', fixture('cloudformation/cdk.template.json'));

  it('reads long-form intrinsics, with positions', () => {
    expect(r.problems).toEqual([]);
    const key = factNamed(r, 'key', 'DataKey6E3A9F4B');
    expect(key).toMatchObject({ line: 3, column: 5 });
    expect(key.rotationEnabled).toEqual({ state: 'absent' });
    expect(key.deletionWindowDays).toEqual({ state: 'absent' });
    const [root, logs] = valueOf(key.policy);
    expect(valueOf(root!.principals)).toEqual(['arn:${AWS::Partition}:iam::111122223333:root']);
    expect(valueOf(logs!.principals)).toEqual(['Service:logs.eu-west-1.amazonaws.com']);
    expect(logs!.hasConditions).toBe(true);
    expect(factNamed(r, 'alias', 'DataKeyAlias1A2B3C4D').targetKey).toBe('DataKey6E3A9F4B');
    expect(key.aliases).toEqual(['alias/app-data']);
  });

  it('a JSON file that is not a template is not read, and not a problem', () => {
    expect(inspectFile('package.json', '{ "name": "x", "scripts": { "test": "vitest" } }')).toEqual({ facts: [], problems: [] });
    // Even a broken one: Keywarden only reports on files that claim to be templates or manifests.
    expect(inspectFile('tsconfig.json', '{ // comment\n "compilerOptions": {} }')).toEqual({ facts: [], problems: [] });
  });

  it('an invalid template is a problem with its line', () => {
    const bad = inspectFile('t.json', '{\n  "Resources": {\n    "K": { "Type": "AWS::KMS::Key", }\n  ,\n}\n');
    expect(bad.facts).toEqual([]);
    expect(bad.problems).toEqual([expect.objectContaining({ code: 'json-syntax', file: 't.json', line: expect.any(Number), column: expect.any(Number) })]);
  });
});

describe('sniffing', () => {
  it('recognises a template by Resources with an AWS type even without AWSTemplateFormatVersion', () => {
    const r = inspectFile('stack.yml', 'Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: "false"\n');
    expect(valueOf(factNamed(r, 'key', 'K').rotationEnabled)).toBe(false);
  });

  it('a YAML file with Resources but no AWS types is not a template', () => {
    expect(inspectFile('x.yaml', 'Resources:\n  cpu: 2\n').facts).toEqual([]);
  });
});
