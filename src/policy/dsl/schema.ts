/**
 * The JSON Schema of the key-policy YAML. Published as `schemas/policy.schema.json` (a test keeps
 * the file equal to this object) so editors validate while people type:
 * `# yaml-language-server: $schema=https://keywarden.dev/schemas/policy.schema.json`.
 *
 * Kept free of `oneOf` where possible: every branch of a failed `oneOf` reports its own error and
 * people get a wall of text for one typo.
 */
import { ACTIONS, BACKEND_KINDS, KEY_FAMILIES, REFERENCE_SOURCES, VISIBILITIES } from './ast.js';
import { SEVERITIES } from '../../scan/types.js';

export const DURATION_PATTERN = '^(0|[1-9][0-9]{0,5})[hdwy]$';
export const COMPARISON_PATTERN = '^\\s*(>=|<=|==|>|<)\\s*(0|[1-9][0-9]{0,5})[hdwy]\\s*$';
export const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
export const NAME_PATTERN = '^[a-z][a-z0-9_-]{0,62}$';

const glob = { type: 'string', minLength: 1, maxLength: 512, description: 'A glob: `*` matches any run of characters, `?` one, `[abc]` a class, `{a,b}` alternatives.' } as const;
const globs = { type: 'array', items: glob, maxItems: 256 } as const;
const globOrGlobs = { anyOf: [glob, { ...globs, minItems: 1 }] } as const;
const severity = { type: 'string', enum: [...SEVERITIES] } as const;
const actions = { type: 'array', items: { type: 'string', enum: [...ACTIONS] }, minItems: 1, uniqueItems: true, maxItems: 6 } as const;
const duration = { type: 'string', pattern: DURATION_PATTERN, description: 'A duration: a whole number and a unit, h (hours), d (days), w (weeks) or y (365 days). Example: `90d`.' } as const;
const comparison = { type: 'string', pattern: COMPARISON_PATTERN, description: 'A comparison with a duration, e.g. `>= 14d`.' } as const;
const bound = {
  description: 'One comparison (`>= 7d`) or a list of them that must all hold (`[">= 7d", "<= 30d"]`).',
  anyOf: [comparison, { type: 'array', items: comparison, minItems: 1, maxItems: 4 }],
} as const;

export const POLICY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://keywarden.dev/schemas/policy.schema.json',
  title: 'Keywarden key policy',
  description: 'Key-management rules for a repository: which keys, rotation, algorithms, access, destruction, leak response, storage, exceptions.',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    $schema: { type: 'string' },
    version: { const: 1, description: 'The policy language version. Only 1 exists.' },
    name: { type: 'string', pattern: NAME_PATTERN, description: 'Names the Rego package: `keywarden.<name>` (dashes become underscores).' },
    extends: { description: 'Policies this one builds on (org defaults): paths relative to this file, or built-in packs as `keywarden:<name>` (aws-kms-baseline, gcp-kms-baseline, azure-key-vault-baseline, leak-response).', anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 16 }] },
    backend: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: { kind: { type: 'string', enum: [...BACKEND_KINDS] }, region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$' } },
    },
    keys: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: NAME_PATTERN },
          description: { type: 'string', maxLength: 1000 },
          match: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              backend: { type: 'string', enum: [...BACKEND_KINDS] },
              id: glob,
              alias: glob,
              label: glob,
              tags: { type: 'object', maxProperties: 64, additionalProperties: glob },
              family: {
                description: 'Key family by spec: symmetric (AES, SYMMETRIC_DEFAULT), asymmetric (RSA, ECC, SM2), hmac. A key whose spec is not known is in none.',
                anyOf: [
                  { type: 'string', enum: [...KEY_FAMILIES] },
                  { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...KEY_FAMILIES] } },
                ],
              },
              spec: { ...glob, description: 'The backend key spec, as a glob: `RSA_*`, `SYMMETRIC_DEFAULT`.' },
              resource: { ...glob, description: 'Where a key is declared in the repository: the resource type, as a glob (`aws_kms_key`, `AWS::KMS::*`). Live keys have none.' },
              path: { ...glob, description: 'The file a key is declared in, as a glob (`infra/**`). Live keys have none.' },
            },
          },
          severity,
          do: actions,
          spec: {
            type: 'object',
            additionalProperties: false,
            properties: {
              allow: globs,
              deny: globs,
              'min-size': {
                type: 'object',
                propertyNames: { pattern: '^[A-Z][A-Z0-9]{0,15}$' },
                additionalProperties: { type: 'integer', minimum: 1, maximum: 65536 },
              },
            },
          },
          rotation: {
            type: 'object',
            additionalProperties: false,
            properties: {
              'max-age': duration,
              automatic: { type: 'string', enum: ['required', 'optional', 'forbidden'] },
              period: bound,
            },
          },
          access: {
            type: 'object',
            additionalProperties: false,
            properties: {
              admins: globs,
              users: globs,
              forbid: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 256 },
              'separate-duties': { type: 'boolean' },
              exempt: {
                ...globs,
                description: 'Principals the forbid and separate-duties rules do not apply to, as globs: the account root that AWS\'s default key policy grants kms:* (`arn:aws:iam::*:root`).',
              },
            },
          },
          destroy: { type: 'object', additionalProperties: false, properties: { 'pending-window': bound } },
        },
      },
    },
    secrets: {
      type: 'object',
      additionalProperties: false,
      properties: {
        detectors: {
          type: 'array',
          maxItems: 256,
          items: {
            anyOf: [
              { type: 'string', enum: ['recommended', 'none'] },
              {
                type: 'object',
                additionalProperties: false,
                required: ['id', 'pattern'],
                properties: {
                  id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
                  pattern: { type: 'string', minLength: 1, maxLength: 1024 },
                  flags: { type: 'string', pattern: '^[imsu]*$' },
                  type: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
                  title: { type: 'string', maxLength: 200 },
                  severity,
                  keywords: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 32 },
                  'min-entropy': { type: 'number', minimum: 0, maximum: 8 },
                },
              },
            ],
          },
        },
        'ignore-paths': globs,
        'on-leak': {
          type: 'array',
          maxItems: 256,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['do'],
            properties: {
              when: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  type: globOrGlobs,
                  branch: globOrGlobs,
                  path: globOrGlobs,
                  visibility: {
                    anyOf: [
                      { type: 'string', enum: [...VISIBILITIES] },
                      { type: 'array', items: { type: 'string', enum: [...VISIBILITIES] }, minItems: 1, uniqueItems: true },
                    ],
                  },
                },
              },
              do: actions,
              severity,
              message: { type: 'string', maxLength: 500 },
            },
          },
        },
      },
    },
    drift: {
      type: 'object',
      additionalProperties: false,
      required: ['every'],
      description: 'The GitHub App compares the keys the default branch declares with the live keys of the configured backend this often, and reports drift as a `keywarden/drift` check on the default branch.',
      properties: { every: { ...duration, description: 'How often: at least 1h, at most 1y. Example: `24h`, `7d`.' } },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      properties: {
        'forbid-files': globs,
        'require-reference': { type: 'array', items: { type: 'string', enum: [...REFERENCE_SOURCES] }, minItems: 1, uniqueItems: true },
        severity,
      },
    },
    exceptions: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['reason', 'owner', 'expires'],
        properties: {
          fingerprint: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
          key: glob,
          rule: glob,
          path: glob,
          reason: { type: 'string', minLength: 1, maxLength: 1000 },
          owner: { type: 'string', minLength: 1, maxLength: 200 },
          expires: { type: 'string', pattern: DATE_PATTERN },
        },
      },
    },
  },
} as const;
