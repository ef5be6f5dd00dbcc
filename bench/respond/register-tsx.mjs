// Preload for bench:respond: tsx for the benchmark's own TypeScript, in the main thread only.
// `node --import tsx` would run in every worker thread too (workers inherit execArgv), so the
// scan's worker pool would load tsx and its hooks on each respond run: time the shipped
// pipeline (dist/, plain JavaScript) does not spend.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const { register } = await import('tsx/esm/api');
  register();
}
