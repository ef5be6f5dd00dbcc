/**
 * Check runs. As on GitHub: at most 50 annotations per request (more is a 422), annotations add
 * up across updates, a conclusion completes the run, `completed` needs a conclusion, columns only
 * on a one-line annotation, and the head must be a commit of the repository.
 */
import { annotationJson, checkRunJson } from '../shapes.js';
import type { AnnotationState, CheckRunState, RepoState } from '../state.js';
import { resolveRevision } from './compare.js';
import { notFound, ok, paginate, unprocessable } from './reply.js';
import { onRepo, type HandlerInput, type Handlers, type Reply } from './types.js';

const MAX_ANNOTATIONS_PER_REQUEST = 50;

interface CheckRunBody {
  name?: string;
  head_sha?: string;
  details_url?: string;
  external_id?: string;
  status?: CheckRunState['status'];
  started_at?: string;
  conclusion?: string;
  completed_at?: string;
  output?: { title?: string; summary?: string; text?: string; annotations?: AnnotationState[] };
  actions?: CheckRunState['actions'];
}

function refused(field: string, code: string, message: string): Reply {
  return unprocessable('Validation Failed', [{ resource: 'CheckRun', field, code, message }]);
}

function checkBody(b: CheckRunBody): Reply | undefined {
  const annotations = b.output?.annotations ?? [];
  if (annotations.length > MAX_ANNOTATIONS_PER_REQUEST) {
    return refused('output.annotations', 'too_many', `Only ${MAX_ANNOTATIONS_PER_REQUEST} annotations are allowed per request.`);
  }
  const bad = annotations.findIndex((a) => (a.start_column !== undefined || a.end_column !== undefined) && a.start_line !== a.end_line);
  if (bad >= 0) return refused(`output.annotations[${bad}]`, 'invalid', 'start_column and end_column are allowed only when start_line equals end_line.');
  if (b.status === 'completed' && b.conclusion === undefined) return refused('conclusion', 'missing_field', 'conclusion is required when status is completed');
  return undefined;
}

function apply(run: CheckRunState, b: CheckRunBody, now: string): void {
  if (b.name !== undefined) run.name = b.name;
  if (b.details_url !== undefined) run.details_url = b.details_url;
  if (b.external_id !== undefined) run.external_id = b.external_id;
  if (b.started_at !== undefined) run.started_at = b.started_at;
  if (b.status !== undefined) run.status = b.status;
  if (b.conclusion !== undefined) {
    run.conclusion = b.conclusion;
    run.status = 'completed';
  }
  if (run.status === 'completed') run.completed_at = b.completed_at ?? run.completed_at ?? now;
  if (b.output) {
    run.output = { title: b.output.title ?? null, summary: b.output.summary ?? null, text: b.output.text ?? null };
    run.annotations.push(...(b.output.annotations ?? []));
  }
  if (b.actions !== undefined) run.actions = b.actions;
}

const create = onRepo(async (input, repo) => {
  const b = input.body as CheckRunBody;
  const invalid = checkBody(b);
  if (invalid) return invalid;
  if ((await repo.git.resolve(b.head_sha!)) !== b.head_sha) return unprocessable(`No commit found for SHA: ${b.head_sha}`);
  const now = input.fake.now();
  const run: CheckRunState = {
    id: input.fake.state.nextId(),
    repoKey: `${repo.owner}/${repo.name}`.toLowerCase(),
    name: b.name!,
    head_sha: b.head_sha!,
    status: 'queued',
    conclusion: null,
    started_at: now,
    completed_at: null,
    external_id: '',
    details_url: null,
    output: { title: null, summary: null, text: null },
    annotations: [],
    actions: [],
    installationId: input.auth.kind === 'installation' ? input.auth.installationId : 0,
  };
  apply(run, b, now);
  input.fake.state.checkRuns.set(run.id, run);
  return ok(checkRunJson(input.fake, repo, run), 201);
});

function runOf(input: HandlerInput, repo: RepoState): CheckRunState | undefined {
  const run = input.fake.state.checkRuns.get(Number(input.params.check_run_id));
  return run && run.repoKey === `${repo.owner}/${repo.name}`.toLowerCase() ? run : undefined;
}

const update = onRepo((input, repo) => {
  const run = runOf(input, repo);
  if (!run) return notFound();
  const b = input.body as CheckRunBody;
  const invalid = checkBody(b);
  if (invalid) return invalid;
  apply(run, b, input.fake.now());
  return ok(checkRunJson(input.fake, repo, run));
});

const get = onRepo((input, repo) => {
  const run = runOf(input, repo);
  return run ? ok(checkRunJson(input.fake, repo, run)) : notFound();
});

const listForRef = onRepo(async (input, repo) => {
  const sha = await resolveRevision(repo, String(input.params.ref));
  if (!sha) return notFound();
  const key = `${repo.owner}/${repo.name}`.toLowerCase();
  let runs = [...input.fake.state.checkRuns.values()].filter(
    (r) =>
      r.repoKey === key &&
      r.head_sha === sha &&
      (input.query.check_name === undefined || r.name === input.query.check_name) &&
      (input.query.status === undefined || r.status === input.query.status),
  );
  if ((input.query.filter ?? 'latest') === 'latest') runs = runs.filter((r) => !runs.some((o) => o.name === r.name && o.id > r.id));
  runs.sort((a, b) => b.id - a.id);
  const { page, headers } = paginate(runs, input);
  return ok({ total_count: runs.length, check_runs: page.map((r) => checkRunJson(input.fake, repo, r)) }, 200, headers);
});

const listAnnotations = onRepo((input, repo) => {
  const run = runOf(input, repo);
  if (!run) return notFound();
  const { page, headers } = paginate(run.annotations, input);
  return ok(
    page.map((a) => annotationJson(input.fake, repo, run, a)),
    200,
    headers,
  );
});

export const checkHandlers: Handlers = {
  'checks/create': create,
  'checks/update': update,
  'checks/get': get,
  'checks/list-for-ref': listForRef,
  'checks/list-annotations': listAnnotations,
};
