/**
 * Kubernetes manifests (one or many documents, `kind: List` too, Helm-rendered output) → facts:
 * `Secret` objects that hold their values inline (a storage violation) and references to external
 * secret stores (External Secrets, Sealed Secrets, the Secrets Store CSI driver), the good way.
 *
 * A fact names a Secret's keys, never a value: the walker reads only mapping keys under `data`,
 * `stringData` and `encryptedData`. Pure.
 */
import { isMap, type Node as YamlNode } from 'yaml';
import type { Fact, InlineSecretFact, Problem, SecretStoreRefFact } from './facts.js';
import type { LoadedYaml } from './yaml-doc.js';

/** True when a document's top level has `apiVersion` and `kind`. */
export function isKubernetes(y: LoadedYaml, index = 0): boolean {
  const top = y.walker.deref(y.docs[index]?.contents);
  return !!top && isMap(top) && y.walker.text(y.walker.get(top, 'apiVersion')) !== undefined && y.walker.text(y.walker.get(top, 'kind')) !== undefined;
}

/**
 * Facts from every manifest document of a parsed file.
 *
 * @example
 * const y = loadYaml('deploy/secret.yaml', text, false, problems);
 * const facts = y ? inspectKubernetes('deploy/secret.yaml', y, problems) : [];
 * // [{ kind: 'inline-secret', name: 'default/db', keys: ['password'], … }]
 */
export function inspectKubernetes(file: string, y: LoadedYaml, _problems: Problem[]): Fact[] {
  const facts: Fact[] = [];
  for (const doc of y.docs) {
    const top = y.walker.deref(doc.contents);
    if (!top || !isMap(top)) continue;
    object(file, y, top, facts, 0);
  }
  return facts;
}

const REF_KINDS: Record<string, { group: RegExp; refKind: SecretStoreRefFact['refKind'] }> = {
  ExternalSecret: { group: /^external-secrets\.io\//, refKind: 'ExternalSecret' },
  ClusterExternalSecret: { group: /^external-secrets\.io\//, refKind: 'ClusterExternalSecret' },
  SealedSecret: { group: /^bitnami\.com\//, refKind: 'SealedSecret' },
  SecretProviderClass: { group: /^secrets-store\.csi\.x-k8s\.io\//, refKind: 'SecretProviderClass' },
};

function object(file: string, y: LoadedYaml, node: YamlNode, facts: Fact[], depth: number): void {
  const w = y.walker;
  const apiVersion = w.text(w.get(node, 'apiVersion'));
  const kind = w.text(w.get(node, 'kind'));
  if (apiVersion === undefined || kind === undefined) return;
  if (kind === 'List' && depth === 0) {
    for (const item of w.items(w.get(node, 'items'))) object(file, y, item, facts, depth + 1);
    return;
  }
  const meta = w.get(node, 'metadata');
  const name = w.text(w.get(meta, 'name')) ?? w.text(w.get(meta, 'generateName')) ?? '';
  const namespace = w.text(w.get(meta, 'namespace'));
  const at = y.pos(node.range?.[0] ?? 0);
  const base = { file, line: at.line, column: at.column, format: 'kubernetes' as const, resourceType: kind, name: `${namespace ?? 'default'}/${name}` };

  if (kind === 'Secret' && apiVersion === 'v1') {
    const dataKeys = w.keys(w.get(node, 'data'));
    const stringDataKeys = w.keys(w.get(node, 'stringData'));
    if (dataKeys.length === 0 && stringDataKeys.length === 0) return;
    const f: InlineSecretFact = {
      ...base,
      kind: 'inline-secret',
      namespace,
      secretType: w.text(w.get(node, 'type')),
      keys: [...new Set([...dataKeys, ...stringDataKeys])].sort(),
      dataKeys,
      stringDataKeys,
    };
    facts.push(f);
    return;
  }
  const ref = REF_KINDS[kind];
  if (!ref || !ref.group.test(apiVersion)) return;
  const spec = w.get(node, 'spec');
  const f: SecretStoreRefFact = { ...base, kind: 'secret-store-ref', refKind: ref.refKind, namespace, store: undefined, keys: [] };
  if (ref.refKind === 'ExternalSecret' || ref.refKind === 'ClusterExternalSecret') {
    const es = ref.refKind === 'ClusterExternalSecret' ? w.get(spec, 'externalSecretSpec') : spec;
    f.store = w.text(w.get(w.get(es, 'secretStoreRef'), 'name'));
    f.keys = uniq(w.items(w.get(es, 'data')).map((d) => w.text(w.get(d, 'secretKey'))));
  } else if (ref.refKind === 'SealedSecret') {
    f.store = 'sealed-secrets';
    f.keys = w.keys(w.get(spec, 'encryptedData'));
  } else {
    f.store = w.text(w.get(spec, 'provider'));
    f.keys = uniq(w.items(w.get(spec, 'secretObjects')).flatMap((o) => w.items(w.get(o, 'data')).map((d) => w.text(w.get(d, 'key')))));
  }
  facts.push(f);
}

function uniq(xs: (string | undefined)[]): string[] {
  return [...new Set(xs.filter((x): x is string => x !== undefined))].sort();
}
