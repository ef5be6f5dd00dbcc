/**
 * A scan worker thread: builds the ruleset once from the selection it is given, then scans
 * batches of files (read here, in parallel with other workers) or of buffers (from git).
 * Raw secrets never leave this thread: only findings do.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRuleset } from './engine.js';
import { selectDetectors } from './select-detectors.js';
import { packResults, runTask, type WorkerInit, type WorkerTask, type WorkerReply } from './pool.js';

const init = workerData as WorkerInit;
const ruleset = createRuleset(selectDetectors(init.selection));

parentPort!.on('message', (task: WorkerTask) => {
  runTask(task, ruleset, init).then(
    (results) => parentPort!.postMessage({ id: task.id, results: packResults(results) } satisfies WorkerReply),
    // Only the error's class crosses over: a foreign message could quote scanned text.
    (e: unknown) => parentPort!.postMessage({ id: task.id, results: [], error: e instanceof Error ? e.name : 'Error' } satisfies WorkerReply),
  );
});
