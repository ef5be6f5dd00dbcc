/**
 * What a policy returns for an input: violations (rule, message, the policy line) and the
 * actions it demands. The policy engine produces it; the planner turns it into steps.
 */
import type { Severity } from './finding.js';

export const ACTIONS = ['revoke', 'rotate', 'open-pr', 'open-issue', 'fail-check', 'notify'] as const;
export type ActionType = (typeof ACTIONS)[number];

export interface DecisionLocation {
  file?: string;
  line?: number;
  column?: number;
  path: string;
}

export interface DecisionSubject {
  kind: 'key' | 'key-config' | 'finding' | 'file' | 'config' | (string & {});
  id?: string;
  backend?: string;
  aliases?: string[];
  file?: string;
  line?: number;
  column?: number;
  fingerprint?: string;
  type?: string;
}

export interface Violation {
  rule: string;
  message: string;
  severity: Severity;
  policy: DecisionLocation;
  subject: DecisionSubject;
}

export interface DecisionAction {
  type: ActionType;
  rule: string;
  severity: Severity;
  policy: DecisionLocation;
  subject: DecisionSubject;
}

export interface Decision {
  violations: Violation[];
  actions: DecisionAction[];
}
