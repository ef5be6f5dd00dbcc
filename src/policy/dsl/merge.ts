/**
 * `extends:` — a repo policy built on org defaults. Pure. The child wins: key classes with the
 * same name are replaced, scalars are overridden, lists of detectors, ignore-paths, forbidden
 * files and exceptions are joined, and the child's leak rules come before the parent's. Every
 * node keeps the location (file) it was written in.
 */
import type { DetectorRef, PolicyAst } from './ast.js';

export function mergePolicies(parent: PolicyAst, child: PolicyAst): PolicyAst {
  const childKeys = new Set(child.keys.map((k) => k.name));
  const detectorId = (d: DetectorRef): string => (d.kind === 'preset' ? `preset:${d.name}` : `custom:${d.id}`);
  const childDetectors = new Set(child.secrets.detectors.map(detectorId));
  const storage = child.storage ?? parent.storage;
  const merged: PolicyAst = {
    ...child,
    keys: [...parent.keys.filter((k) => !childKeys.has(k.name)), ...child.keys],
    secrets: {
      detectors: [...parent.secrets.detectors.filter((d) => !childDetectors.has(detectorId(d))), ...child.secrets.detectors],
      ignorePaths: [...new Set([...parent.secrets.ignorePaths, ...child.secrets.ignorePaths])],
      onLeak: [...child.secrets.onLeak, ...parent.secrets.onLeak],
      ...(child.secrets.loc ?? parent.secrets.loc ? { loc: (child.secrets.loc ?? parent.secrets.loc)! } : {}),
    },
    exceptions: [...child.exceptions, ...parent.exceptions],
    extends: [],
  };
  if (!child.backend && parent.backend) merged.backend = parent.backend;
  if (!child.drift && parent.drift) merged.drift = parent.drift;
  if (child.storage && parent.storage && storage) {
    merged.storage = {
      ...child.storage,
      forbidFiles: [...parent.storage.forbidFiles.filter((p) => !child.storage!.forbidFiles.some((c) => c.value === p.value)), ...child.storage.forbidFiles],
      ...(child.storage.requireReference ?? parent.storage.requireReference ? { requireReference: (child.storage.requireReference ?? parent.storage.requireReference)! } : {}),
    };
  } else if (storage) merged.storage = storage;
  return merged;
}
