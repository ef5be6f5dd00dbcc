/**
 * A scan worker thread: builds the ruleset once from the selection it is given, then scans
 * batches of files (read here, in parallel with other workers) or of buffers (from git).
 * Raw secrets never leave this thread: only findings do.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRuleset } from './engine.js';
import { scanFile, scanUnit } from './sources/read-file.js';
import { selectDetectors } from './select-detectors.js';
import type { WorkerInit, WorkerTask, WorkerReply } from './pool.js';

const init = workerData as WorkerInit;
const ruleset = createRuleset(selectDetectors(init.selection));

parentPort!.on('message', (task: WorkerTask) => {
  const results =
    task.kind === 'files'
      ? task.items.map((i) => scanFile(i.abs, i.rel, ruleset, init.read))
      : task.items.map((i) => scanUnit(i, ruleset, init.read));
  const reply: WorkerReply = { id: task.id, results };
  parentPort!.postMessage(reply);
});
