/**
 * What the fake remembers, in memory: repositories (each with its bare git repository),
 * installations and their tokens, pull requests and issues (one number sequence per repository,
 * as on GitHub), check runs, deploy keys, permissions, secret scanning alerts, revoked
 * credentials. Branch tips and file contents are never copied here: they are read from git.
 *
 * The records of GitHub objects (pull requests, issues, comments, check runs, deploy keys,
 * alerts) use GitHub's field names (`head.ref`, `head_sha`, `merged_at`), so a test reads them as
 * it would read the API; the fake's own bookkeeping (repositories, tokens) is camelCase.
 */
import type { BareRepo } from './bare-repo.js';

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface InstallationState {
  id: number;
  account: string;
  accountType: 'User' | 'Organization';
  permissions: Record<string, string>;
  events: string[];
  createdAt: string;
}

export interface TokenState {
  token: string;
  installationId: number;
  /** Epoch ms. */
  expiresAt: number;
  permissions: Record<string, string>;
  /** Lower-case repository names the token is limited to; undefined: every repository of the installation. */
  repositories: string[] | undefined;
}

export interface PullState {
  number: number;
  id: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  draft: boolean;
  /** Login of the author. */
  user: string;
  /** Refreshed from the branch tips while the pull request is open, frozen once it is closed. */
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  merged: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
  maintainer_can_modify: boolean;
  /** The head lives in a fork owned by this login: its commits reach the base repository only as `refs/pull/N/head`. */
  fork?: string;
  /** What `refs/pull/N/head` points at (kept in step with the head, as GitHub does). */
  pullRef?: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface IssueState {
  number: number;
  id: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: 'completed' | 'not_planned' | 'reopened' | 'duplicate' | null;
  labels: string[];
  assignees: string[];
  user: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface CommentState {
  id: number;
  issue_number: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export interface AnnotationState {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
  raw_details?: string;
}

export interface CheckRunState {
  id: number;
  repoKey: string;
  name: string;
  head_sha: string;
  status: 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';
  conclusion: string | null;
  started_at: string;
  completed_at: string | null;
  external_id: string;
  details_url: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Every annotation sent, across all updates, in order. */
  annotations: AnnotationState[];
  actions: Array<{ label: string; description: string; identifier: string }>;
  /** Installation token that created it (GitHub lets only the creating app update it). */
  installationId: number;
}

export interface DeployKeyState {
  id: number;
  key: string;
  title: string;
  read_only: boolean;
  created_at: string;
  added_by: string | null;
}

export interface AlertLocation {
  path: string;
  start_line: number;
  end_line: number;
  start_column: number;
  end_column: number;
  blob_sha: string;
  commit_sha: string;
}

export interface AlertState {
  number: number;
  secret_type: string;
  secret_type_display_name: string;
  /** Only when the test set it: the App must not rely on GitHub returning the secret. */
  secret: string | undefined;
  state: 'open' | 'resolved';
  resolution: 'false_positive' | 'wont_fix' | 'revoked' | 'used_in_tests' | null;
  resolution_comment: string | null;
  resolved_at: string | null;
  /** Login. */
  resolved_by: string | null;
  validity: 'active' | 'inactive' | 'unknown';
  locations: AlertLocation[];
  created_at: string;
  updated_at: string;
}

export interface RepoState {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  defaultBranch: string;
  installationId: number;
  createdAt: string;
  git: BareRepo;
  /** Next number for an issue or a pull request (shared, as on GitHub). */
  nextNumber: number;
  pulls: Map<number, PullState>;
  issues: Map<number, IssueState>;
  comments: CommentState[];
  deployKeys: Map<number, DeployKeyState>;
  permissions: Map<string, Permission>;
  alerts: Map<number, AlertState>;
  nextAlertNumber: number;
}

export interface FakeState {
  appId: number;
  appSlug: string;
  appName: string;
  repos: Map<string, RepoState>;
  installations: Map<number, InstallationState>;
  tokens: Map<string, TokenState>;
  checkRuns: Map<number, CheckRunState>;
  /** Every `POST /credentials/revoke` body's credentials, in arrival order. */
  revokedCredentials: string[];
  userIds: Map<string, number>;
  nextId: () => number;
}

/** Repositories are found case-insensitively, as on GitHub. */
export function repoKey(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

export function createState(appId: number, appSlug: string, appName: string): FakeState {
  let id = 1000;
  return {
    appId,
    appSlug,
    appName,
    repos: new Map(),
    installations: new Map(),
    tokens: new Map(),
    checkRuns: new Map(),
    revokedCredentials: [],
    userIds: new Map(),
    nextId: () => ++id,
  };
}

/** The login GitHub shows for what an installation token does. */
export function botLogin(state: FakeState): string {
  return `${state.appSlug}[bot]`;
}
