/**
 * Evaluate a built policy in-process with `@open-policy-agent/opa-wasm`: load once, evaluate
 * many. The SDK throws strings and plain objects; they are wrapped here into `KW_POLICY_EVAL`
 * errors (the foreign text kept only as `cause`).
 *
 * A key inventory changes far less often than the rest of the input (findings, facts, event), and
 * it is most of the input's bytes: 200 keys are ~140 KB of JSON, which cost more to serialise and
 * parse into wasm than judging them does. `setKeyInventory` parses the inventory into wasm memory
 * once; an evaluation whose input has no `keys` then sees the inventory as `input.keys` (custom
 * modules included), without serialising it again. See docs/benchmarks.md (Policy).
 */
import * as opaWasm from '@open-policy-agent/opa-wasm';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { type Decision, type DecisionAction, type ManagedKeyInput, prepareInput, type Violation } from '../input.js';

/** The parts of opa-wasm 1.10's `LoadedPolicy` that keeping values resident in wasm memory needs. */
interface WasmInternals {
  wasmInstance: { exports: Record<string, (...args: number[]) => number> };
  mem: { buffer: ArrayBuffer; grow(pages: number): number };
  dataAddr: number;
  dataHeapPtr: number;
  entrypoints: Record<string, number>;
}

const EXPORTS = ['opa_malloc', 'opa_json_parse', 'opa_json_dump', 'opa_heap_ptr_get', 'opa_heap_ptr_set', 'opa_value_add_path', 'opa_eval_ctx_new', 'opa_eval_ctx_set_input', 'opa_eval_ctx_set_data', 'opa_eval_ctx_set_entrypoint', 'opa_eval_ctx_get_result', 'eval'];

function wasmInternals(policy: LoadedPolicy): WasmInternals | undefined {
  const p = policy as unknown as Partial<WasmInternals>;
  const ex = p.wasmInstance?.exports;
  if (!ex || !(p.mem?.buffer instanceof ArrayBuffer) || typeof p.mem.grow !== 'function' || typeof p.dataAddr !== 'number' || typeof p.dataHeapPtr !== 'number' || typeof p.entrypoints !== 'object') return undefined;
  return EXPORTS.every((n) => typeof ex[n] === 'function') ? (p as WasmInternals) : undefined;
}

// opa-wasm 1.10's ESM entry exports only `loadPolicy` by name (its types declare `loadPolicySync`
// too); the CommonJS module's other functions are on the default export.
const { loadPolicySync } = (opaWasm as unknown as { default: typeof opaWasm }).default;
type WasmModule = Parameters<typeof loadPolicySync>[0];
/** `WebAssembly.compile`, which the type declarations this project compiles against leave out. */
const compileWasm = (bytes: Uint8Array): Promise<WasmModule> => (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<WasmModule> } }).WebAssembly.compile(bytes);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A key inventory held by the evaluator: in wasm memory (`addr`), or as prepared JSON values when the SDK's internals are not available. */
type Inventory = { kind: 'wasm'; addr: number; path: number; end: number } | { kind: 'js'; keys: unknown[] };

export class PolicyEvaluator {
  private inventory: Inventory | undefined;
  /** `opa_eval` when the module has it (ABI 1.2) and the SDK's internals are as expected. */
  private readonly fastEval: ((...a: number[]) => number) | undefined;
  /** Where the SDK's heap for per-evaluation values starts when no inventory is resident. */
  private readonly baseHeapPtr: number | undefined;

  private constructor(
    private readonly policy: LoadedPolicy,
    readonly entrypoint: string,
    private readonly wasm: WasmInternals | undefined,
  ) {
    this.baseHeapPtr = wasm?.dataHeapPtr;
    const opaEval = wasm?.wasmInstance.exports.opa_eval;
    const minor = (policy as unknown as { minorVersion?: unknown }).minorVersion;
    this.fastEval = typeof opaEval === 'function' && typeof minor === 'number' && minor >= 2 ? opaEval : undefined;
  }

  static async load(wasm: Uint8Array, entrypoint: string): Promise<PolicyEvaluator> {
    try {
      // Compiled here (off the main thread) and instantiated by `loadPolicySync`: the SDK's async
      // `loadPolicy` tests `instanceof Response`, and touching that global makes Node load its
      // fetch implementation, ~35 ms of every `keywarden check`.
      const module = await compileWasm(wasm);
      // 320 KiB initial memory is the SDK default; realistic inputs (hundreds of keys) need more.
      const policy = loadPolicySync(module, { initial: 16, maximum: 4096 });
      return new PolicyEvaluator(policy, entrypoint, wasmInternals(policy));
    } catch (e) {
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'The policy bundle could not be loaded into WebAssembly.', {
        fault: 'internal',
        cause: e,
        hint: 'Rebuild the policy with `keywarden policy build`; delete .cache/keywarden if the problem stays.',
      });
    }
  }

  /**
   * Keep `keys` (the backend's key inventory; validated like `input.keys`) for the evaluations
   * whose input has no `keys` of its own. `undefined` forgets it. Replacing the inventory costs
   * one parse; an unchanged inventory costs nothing per evaluation.
   *
   * @example
   * evaluator.setKeyInventory(await backend.inventory());
   * const decision = evaluator.evaluate({ now, findings, facts, repo, event }); // judged with the inventory
   */
  setKeyInventory(keys: readonly ManagedKeyInput[] | undefined): void {
    this.inventory = undefined;
    if (this.wasm && this.baseHeapPtr !== undefined) this.wasm.dataHeapPtr = this.baseHeapPtr;
    if (keys === undefined) return;
    const prepared = prepareInput({ now: '1970-01-01T00:00:00Z', keys }).keys as unknown[];
    const w = this.wasm;
    if (!w || this.baseHeapPtr === undefined) {
      this.inventory = { kind: 'js', keys: prepared };
      return;
    }
    try {
      // Values parsed here live between the SDK's data and the heap every evaluation starts from
      // (the SDK writes its own inputs at `dataHeapPtr`, which moves above them).
      this.call('opa_heap_ptr_set', this.baseHeapPtr);
      const addr = this.parseIntoWasm(JSON.stringify(prepared));
      const path = this.parseIntoWasm('["keys"]');
      const end = this.call('opa_heap_ptr_get');
      w.dataHeapPtr = end;
      this.inventory = { kind: 'wasm', addr, path, end };
    } catch (e) {
      w.dataHeapPtr = this.baseHeapPtr;
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'The key inventory could not be loaded into WebAssembly.', { fault: 'internal', cause: e, hint: 'Pass the keys in `input.keys` instead.' });
    }
  }

  /** Validate and prepare `input`, then evaluate. Without `input.keys`, the key inventory (if set) is judged. */
  evaluate(input: unknown): Decision {
    const prepared = prepareInput(input);
    if (this.inventory && (input as { keys?: unknown }).keys === undefined) delete prepared.keys;
    return this.evaluatePrepared(prepared);
  }

  /** Evaluate an input already passed through `prepareInput` (for loops over the same input). Without `keys`, the key inventory (if set) is judged. */
  evaluatePrepared(prepared: Record<string, unknown>): Decision {
    let rs: unknown;
    const inv = prepared.keys === undefined ? this.inventory : undefined;
    try {
      if (inv?.kind === 'wasm') rs = this.evaluateWithResidentKeys(prepared, inv);
      else rs = this.policy.evaluate(inv?.kind === 'js' ? { ...prepared, keys: inv.keys } : prepared, this.entrypoint);
    } catch (e) {
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'Evaluating the policy failed.', {
        cause: e,
        fault: 'internal',
        hint: 'A custom Rego module may have a runtime error (e.g. conflicting values); run `keywarden policy test`.',
      });
    }
    const result = Array.isArray(rs) ? (rs[0] as { result?: Decision } | undefined)?.result : undefined;
    if (!result || !Array.isArray(result.violations) || !Array.isArray(result.actions))
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'The policy returned no decision.', { fault: 'internal', hint: 'Check custom modules: they must define `violations` and `actions` as sets.' });
    return { violations: sortByKey(result.violations), actions: sortByKey(result.actions) };
  }

  /** Evaluate `entrypoint` of the bundle (e.g. the compiled policy's `partial`) on a prepared input, without the resident inventory; its result. */
  evaluateEntrypoint(prepared: Record<string, unknown>, entrypoint: string): unknown {
    let rs: unknown;
    try {
      rs = this.fastEval ? this.fastEvaluate(prepared, entrypoint, this.fastEval) : this.policy.evaluate(prepared, entrypoint);
    } catch (e) {
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'Evaluating the policy failed.', { cause: e, fault: 'internal', hint: 'Rebuild the policy with `keywarden policy build`.' });
    }
    return Array.isArray(rs) ? (rs[0] as { result?: unknown } | undefined)?.result : undefined;
  }

  /**
   * The SDK's ABI 1.2 evaluation (`opa_eval`: one call parses the input, evaluates and dumps the
   * result), with a reused encoder and decoder and a native scan for the end of the result; the
   * incremental evaluator makes many small evaluations, where the SDK's per-call set-up shows.
   */
  private fastEvaluate(prepared: Record<string, unknown>, entrypoint: string, opaEval: (...a: number[]) => number): unknown {
    const w = this.wasm as WasmInternals;
    const id = w.entrypoints[entrypoint];
    if (id === undefined) throw new Error(`entrypoint ${entrypoint} is not in the bundle`);
    const bytes = encoder.encode(JSON.stringify(prepared));
    const addr = w.dataHeapPtr;
    const grow = addr + bytes.byteLength - w.mem.buffer.byteLength;
    if (grow > 0) w.mem.grow(Math.ceil(grow / 65536));
    new Uint8Array(w.mem.buffer).set(bytes, addr);
    return this.readJson(opaEval(0, id, w.dataAddr, addr, bytes.byteLength, addr + bytes.byteLength, 0));
  }

  /** The SDK's evaluation, except that the input is parsed without `keys` and the resident inventory is put in its place. */
  private evaluateWithResidentKeys(prepared: Record<string, unknown>, inv: { addr: number; path: number; end: number }): unknown {
    const w = this.wasm as WasmInternals;
    const call = this.call.bind(this);
    const entrypoint = w.entrypoints[this.entrypoint];
    if (entrypoint === undefined) throw new Error(`entrypoint ${this.entrypoint} is not in the bundle`);
    call('opa_heap_ptr_set', inv.end);
    const input = this.parseIntoWasm(JSON.stringify(prepared));
    const rc = call('opa_value_add_path', input, inv.path, inv.addr);
    if (rc !== 0) throw new Error(`opa_value_add_path returned ${rc}`);
    const ctx = call('opa_eval_ctx_new');
    call('opa_eval_ctx_set_input', ctx, input);
    call('opa_eval_ctx_set_data', ctx, w.dataAddr);
    call('opa_eval_ctx_set_entrypoint', ctx, entrypoint);
    call('eval', ctx);
    return this.readJson(call('opa_json_dump', call('opa_eval_ctx_get_result', ctx)));
  }

  /** Parse the NUL-terminated JSON text wasm wrote at `addr`. */
  private readJson(addr: number): unknown {
    const mem = new Uint8Array((this.wasm as WasmInternals).mem.buffer);
    const end = mem.indexOf(0, addr);
    return JSON.parse(decoder.decode(mem.subarray(addr, end < 0 ? mem.length : end)));
  }

  /** Copy JSON text into wasm memory and parse it there; the value's address. */
  private parseIntoWasm(text: string): number {
    const bytes = encoder.encode(text);
    const raw = this.call('opa_malloc', bytes.byteLength);
    new Uint8Array((this.wasm as WasmInternals).mem.buffer).set(bytes, raw); // after malloc: it may have grown (and replaced) the buffer
    const value = this.call('opa_json_parse', raw, bytes.byteLength);
    if (!value) throw new Error('opa_json_parse failed');
    return value;
  }

  /** Call one of the wasm module's exports (checked present by `wasmInternals`). */
  private call(name: string, ...args: number[]): number {
    const f = (this.wasm as WasmInternals).wasmInstance.exports[name] as (...a: number[]) => number;
    return f(...args);
  }
}

/** Sort key of decisions: rule, action type, file, line, key id; the JSON text breaks ties (computed only for them). */
export const decisionSortKey = (x: Violation | DecisionAction): string => `${x.rule}\0${'type' in x ? x.type : ''}\0${x.subject.file ?? ''}\0${String(x.subject.line ?? 0).padStart(8, '0')}\0${x.subject.id ?? ''}`;

function sortByKey<T extends Violation | DecisionAction>(xs: readonly T[]): T[] {
  const keyed = xs.map((x) => ({ x, k: decisionSortKey(x), json: undefined as string | undefined }));
  const json = (e: { x: T; json: string | undefined }): string => (e.json ??= JSON.stringify(e.x));
  keyed.sort((a, b) => {
    if (a.k !== b.k) return a.k < b.k ? -1 : 1;
    const [x, y] = [json(a), json(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return keyed.map((e) => e.x);
}
