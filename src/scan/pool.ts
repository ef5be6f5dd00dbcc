/**
 * A pool of scan worker threads. Size 0 scans in the calling thread (same results, for small
 * inputs and environments without threads).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { threadEntry } from '../util/thread-entry.js';
import { createRuleset, type Ruleset } from './engine.js';
import { readEntryText, scanFile, scanUnit, type FileScanResult, type ReadFileOptions } from './sources/read-file.js';
import { selectDetectors, type DetectorSelection } from './select-detectors.js';
import { addSecretlintFindings } from './deep.js';
import { ErrorCode, KeywardenError } from '../errors.js';

export interface WorkerInit {
  selection: DetectorSelection;
  read: ReadFileOptions;
  /** Also run secretlint's recommended preset (slow, opt-in). */
  secretlint?: boolean;
}

export interface UnitItem {
  file: string;
  content: Uint8Array;
  lineMap?: Int32Array;
  /** Keep only findings touching these 1-based lines (what a git range added to a text blob). */
  addedLines?: Uint32Array;
}

export type WorkerTask =
  | { id: number; kind: 'files'; items: { abs: string; rel: string }[] }
  | { id: number; kind: 'units'; items: UnitItem[] };

export interface WorkerReply {
  id: number;
  /** Packed (see `packResults`). */
  results: PackedResult[];
  /** Set when the task failed; the class of the error only. */
  error?: string;
}

export type TaskBody = { kind: 'files'; items: { abs: string; rel: string }[] } | { kind: 'units'; items: UnitItem[] };

export interface ScanPool {
  readonly size: number;
  run(task: TaskBody): Promise<FileScanResult[]>;
  close(): Promise<void>;
}

export function defaultPoolSize(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

export function createScanPool(init: WorkerInit, size: number): ScanPool {
  if (size <= 0) return createInlinePool(init);
  // Built code runs `worker.js`; under a TypeScript runner `worker.ts` through a tsx bootstrap.
  const script = threadEntry(import.meta.url, './worker');
  const workers: Worker[] = [];
  const inflight = new Map<number, { resolve: (r: FileScanResult[]) => void; reject: (e: unknown) => void; worker: Worker }>();
  const load = new Map<Worker, number>();
  let nextId = 1;
  let failure: unknown = null;
  for (let i = 0; i < size; i++) {
    const w = new Worker(script, { workerData: init });
    w.on('message', (reply: WorkerReply) => {
      const p = inflight.get(reply.id);
      if (!p) return;
      inflight.delete(reply.id);
      load.set(w, (load.get(w) ?? 1) - 1);
      if (reply.error) p.reject(new KeywardenError(ErrorCode.INTERNAL, `A scan worker failed (${reply.error}).`));
      else p.resolve(unpackResults(reply.results));
    });
    w.on('error', (e) => {
      failure = e;
      for (const [id, p] of inflight) {
        if (p.worker === w) {
          inflight.delete(id);
          p.reject(e);
        }
      }
    });
    load.set(w, 0);
    workers.push(w);
  }
  return {
    size,
    run(task) {
      if (failure) return Promise.reject(failure);
      let best = workers[0]!;
      for (const w of workers) if (load.get(w)! < load.get(best)!) best = w;
      load.set(best, load.get(best)! + 1);
      const id = nextId++;
      return new Promise<FileScanResult[]>((resolve, reject) => {
        inflight.set(id, { resolve, reject, worker: best });
        const transfer = task.kind === 'units' ? task.items.map((i) => i.content.buffer as ArrayBuffer) : [];
        best.postMessage({ id, ...task }, transfer);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** A file scanned clean (no finding, warning or suppression) is its byte count: most files are. */
export type PackedResult = FileScanResult | number;

/** What a worker posts: a clone of one number per clean file costs far less than of an object. */
export function packResults(results: FileScanResult[]): PackedResult[] {
  return results.map((r) => (r.scanned && r.findings.length === 0 && r.warnings.length === 0 && r.suppressed === 0 && r.skipped === undefined ? r.bytes : r));
}

export function unpackResults(packed: PackedResult[]): FileScanResult[] {
  return packed.map((r) => (typeof r === 'number' ? { findings: [], suppressed: 0, bytes: r, scanned: true, warnings: [] } : r));
}

/** Runs one task with a ruleset; shared by the worker threads and the in-thread pool. */
export async function runTask(task: TaskBody, ruleset: Ruleset, init: WorkerInit): Promise<FileScanResult[]> {
  if (task.kind === 'files') {
    const results = task.items.map((i) => scanFile(i.abs, i.rel, ruleset, init.read));
    if (!init.secretlint) return results;
    // Read the way scanFile reads (no symlink followed, nothing but a regular file).
    return Promise.all(
      results.map((r, k) => {
        const text = r.scanned ? readEntryText(task.items[k]!.abs, init.read.maxFileSize) : undefined;
        return text === undefined ? r : addSecretlintFindings(r, text, task.items[k]!.rel);
      }),
    );
  }
  const results = task.items.map((i) => scanUnit(i, ruleset, init.read));
  if (!init.secretlint) return results;
  return Promise.all(
    results.map((r, k) => {
      const item = task.items[k]!;
      return addSecretlintFindings(r, Buffer.from(item.content.buffer, item.content.byteOffset, item.content.byteLength).toString('utf8'), item.file, item.lineMap);
    }),
  );
}

function createInlinePool(init: WorkerInit): ScanPool {
  let ruleset: Ruleset | undefined;
  const rules = (): Ruleset => (ruleset ??= createRuleset(selectDetectors(init.selection)));
  return {
    size: 0,
    run: (task) => runTask(task, rules(), init),
    async close() {},
  };
}
