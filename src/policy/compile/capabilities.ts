/**
 * The builtins a keywarden policy may use: those OPA's wasm target compiles AND the JS SDK
 * (`@open-policy-agent/opa-wasm`, whose `capabilities.json` lists natively compiled plus
 * SDK-provided builtins) can run. Handing this to `opa check`/`opa build --capabilities` turns
 * "fails at evaluation time" into "rejected at compile time, with the line".
 */

export interface Capabilities {
  builtins: Array<{ name: string; [k: string]: unknown }>;
  wasm_abi_versions?: unknown[];
  features?: string[];
  [k: string]: unknown;
}

/** Builtins refused even though the SDK has them: they would make decisions non-deterministic. */
const NONDETERMINISTIC_BUILTINS = ['rand.intn', 'time.now_ns', 'uuid.rfc4122', 'http.send', 'opa.runtime'] as const;

/**
 * Restrict OPA's own capabilities (which carry the current language features such as `rego_v1`)
 * to the builtins the SDK declares, minus non-deterministic ones. Deterministic output.
 */
export function restrictCapabilities(opa: Capabilities, sdk: Capabilities): Capabilities {
  const allowed = new Set(sdk.builtins.map((b) => b.name));
  for (const n of NONDETERMINISTIC_BUILTINS) allowed.delete(n);
  const builtins = opa.builtins.filter((b) => allowed.has(b.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...opa, builtins, wasm_abi_versions: sdk.wasm_abi_versions ?? [] };
}
