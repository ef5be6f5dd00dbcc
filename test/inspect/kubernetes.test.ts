/**
 * Kubernetes manifests → facts: inline Secrets (a storage violation; key names only, never a value)
 * and references to external secret stores (the good way).
 */
import { describe, expect, it } from 'vitest';
import { inspectFile } from '../../src/inspect/index.js';
import { factNamed, fixture } from './helpers.js';

describe('Kubernetes manifests', () => {
  const text = fixture('kubernetes/manifests.yaml');
  const r = inspectFile('kubernetes/manifests.yaml', text);

  it('an inline Secret lists its key names, at its document', () => {
    expect(r.problems).toEqual([]);
    const s = factNamed(r, 'inline-secret', 'payments/db-credentials');
    expect(s).toEqual({
      file: 'kubernetes/manifests.yaml',
      line: 2,
      column: 1,
      format: 'kubernetes',
      resourceType: 'Secret',
      name: 'payments/db-credentials',
      kind: 'inline-secret',
      namespace: 'payments',
      secretType: 'Opaque',
      keys: ['DATABASE_URL', 'password', 'username'],
      dataKeys: ['password', 'username'],
      stringDataKeys: ['DATABASE_URL'],
    });
  });

  it('no fact carries a secret value', () => {
    const out = JSON.stringify(r);
    expect(out).not.toContain('ZmFrZQ==');
    expect(out).not.toContain('postgres://');
    expect(out).not.toContain('AgBfake');
  });

  it('a Secret without inline data is no violation', () => {
    expect(r.facts.some((f) => f.name.endsWith('/registry-token'))).toBe(false);
  });

  it('External Secrets, Sealed Secrets and CSI providers are references', () => {
    expect(factNamed(r, 'secret-store-ref', 'orders/db-credentials')).toMatchObject({ refKind: 'ExternalSecret', store: 'aws-secrets-manager', keys: ['password', 'username'], line: 22 });
    expect(factNamed(r, 'secret-store-ref', 'orders/api-token')).toMatchObject({ refKind: 'SealedSecret', store: 'sealed-secrets', keys: ['token'] });
    expect(factNamed(r, 'secret-store-ref', 'default/vault-db')).toMatchObject({ refKind: 'SecretProviderClass', store: 'vault', keys: ['password'] });
    expect(r.facts).toHaveLength(4);
  });

  it('reads the items of a List', () => {
    const l = inspectFile('kubernetes/list.yaml', fixture('kubernetes/list.yaml'));
    expect(l.facts).toEqual([expect.objectContaining({ kind: 'inline-secret', name: 'default/from-list', keys: ['api-key'], line: 4, column: 5 })]);
  });

  it('an unrendered Helm template is a problem of its own kind, quoting nothing', () => {
    const h = inspectFile('kubernetes/helm-template.yaml', fixture('kubernetes/helm-template.yaml'));
    expect(h.facts).toEqual([]);
    expect(h.problems.map((p) => p.code)).toEqual(['yaml-unrendered-template']);
  });

  it('invalid YAML is a problem at its line that does not quote the file', () => {
    const bad = inspectFile('s.yaml', 'apiVersion: v1\nkind: Secret\ndata:\n  password: "ZmFrZQ==\n');
    expect(bad.problems).toEqual([expect.objectContaining({ code: 'yaml-syntax', file: 's.yaml', line: expect.any(Number) })]);
    expect(JSON.stringify(bad)).not.toContain('ZmFrZQ');
  });

  it('other documents of a broken stream are still read', () => {
    const mixed = inspectFile('m.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {k: ZmFrZQ==}\n---\napiVersion: v1\nkind: [\n');
    expect(mixed.facts.map((f) => f.name)).toEqual(['default/a']);
    expect(mixed.problems).toHaveLength(1);
  });
});
