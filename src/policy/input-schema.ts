/**
 * The JSON Schemas of the policy input and of the decision (published as `schemas/input.schema.json`
 * and `schemas/decision.schema.json`; a test keeps the files equal to these objects).
 *
 * Kept apart from input.ts so that scripts/generate-validators.ts can read them without loading
 * the validators it generates from them.
 */
import { ACTIONS } from '../model/decision.js';
import { SEVERITIES } from '../model/finding.js';
import { VISIBILITIES } from './dsl/ast.js';

const RFC3339 = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$';
const str = { type: 'string' } as const;
const strs = { type: 'array', items: str } as const;

const keyProps = {
  id: str,
  backend: str,
  aliases: strs,
  labels: strs,
  spec: str,
  state: str,
  createdAt: { type: 'string', pattern: RFC3339 },
  lastRotatedAt: { type: ['string', 'null'], pattern: RFC3339 },
  rotation: { type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' }, periodDays: { type: ['number', 'null'] } } },
  tags: { type: 'object', additionalProperties: str },
  access: { type: 'array', items: { type: 'object', required: ['principal', 'operations'], properties: { principal: str, operations: strs } } },
  pendingWindowDays: { type: 'number' },
  resourceType: str,
  file: str,
  unknown: strs,
} as const;

export const INPUT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://keywarden.dev/schemas/input.schema.json',
  title: 'Keywarden policy input',
  description: 'What a key policy is evaluated against. Derived fields (nowMs, rotatedAtMs, specFamily, specBits) are added by Keywarden.',
  type: 'object',
  required: ['now'],
  properties: {
    now: { type: 'string', pattern: RFC3339, description: 'Time of the decision (RFC 3339). Wasm has no clock.' },
    repo: {
      type: 'object',
      properties: { name: str, visibility: { type: 'string', enum: [...VISIBILITIES] }, defaultBranch: str, files: { ...strs, description: 'Paths added or changed (or all tracked paths for a full check).' } },
    },
    event: { type: 'object', properties: { kind: str, branch: str, sha: str, pullRequest: { type: 'integer' } } },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['ruleId', 'type', 'title', 'severity', 'file', 'startLine', 'startColumn', 'fingerprint'],
        properties: {
          ruleId: str,
          type: str,
          title: str,
          severity: { type: 'string', enum: [...SEVERITIES] },
          confidence: { type: 'string', enum: ['high', 'medium', 'low'] },
          file: str,
          startLine: { type: 'integer', minimum: 1 },
          startColumn: { type: 'integer', minimum: 1 },
          endLine: { type: 'integer', minimum: 1 },
          endColumn: { type: 'integer', minimum: 1 },
          fingerprint: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
          redacted: { type: 'string', maxLength: 16 },
          commit: str,
          author: str,
          authorEmail: str,
          date: str,
          identity: {
            type: 'object',
            required: ['kind'],
            description: "The credential's public identity (an access key ID, a public key's SPKI SHA-256, a token kind); never the secret.",
            properties: {
              kind: { type: 'string', maxLength: 64 },
              id: { type: 'string', maxLength: 200 },
              subtype: { type: 'string', maxLength: 64 },
              sshFingerprint: { type: 'string', maxLength: 100 },
              proven: { type: 'boolean' },
            },
          },
        },
      },
    },
    keys: { type: 'array', items: { type: 'object', required: ['id', 'backend'], properties: keyProps } },
    facts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind', 'file', 'line'],
        properties: { kind: str, file: str, line: { type: 'integer', minimum: 1 }, column: { type: 'integer', minimum: 1 }, key: { type: 'object', properties: keyProps }, name: str, source: str },
      },
    },
  },
} as const;

const location = {
  type: 'object',
  required: ['path'],
  additionalProperties: false,
  properties: { file: str, line: { type: 'integer' }, column: { type: 'integer' }, path: str },
} as const;
const subject = {
  type: 'object',
  required: ['kind'],
  properties: { kind: str, id: str, backend: str, aliases: strs, file: str, line: { type: 'integer' }, column: { type: 'integer' }, fingerprint: str, type: str },
} as const;

export const DECISION_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://keywarden.dev/schemas/decision.schema.json',
  title: 'Keywarden policy decision',
  type: 'object',
  required: ['violations', 'actions'],
  additionalProperties: false,
  properties: {
    violations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['rule', 'message', 'severity', 'policy', 'subject'],
        additionalProperties: false,
        properties: { rule: str, message: str, severity: { type: 'string', enum: [...SEVERITIES] }, policy: location, subject },
      },
    },
    actions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'rule', 'severity', 'policy', 'subject'],
        additionalProperties: false,
        properties: { type: { type: 'string', enum: [...ACTIONS] }, rule: str, severity: { type: 'string', enum: [...SEVERITIES] }, policy: location, subject },
      },
    },
  },
} as const;

/**
 * The input without looking into its item lists (they are only required to be arrays): the items
 * are validated one by one (`INPUT_ITEM_SCHEMAS`), so a cached item need not be validated again.
 */
export const INPUT_TOP_SCHEMA = {
  ...INPUT_SCHEMA,
  $id: 'https://keywarden.dev/schemas/input-top.schema.json',
  properties: { ...INPUT_SCHEMA.properties, findings: { type: 'array' }, keys: { type: 'array' }, facts: { type: 'array' } },
} as const;

/** Each kind of input item alone. */
export const INPUT_ITEM_SCHEMAS = {
  keys: INPUT_SCHEMA.properties.keys.items,
  findings: INPUT_SCHEMA.properties.findings.items,
  facts: INPUT_SCHEMA.properties.facts.items,
} as const;
