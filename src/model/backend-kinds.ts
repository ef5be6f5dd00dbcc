/**
 * The backends Keywarden can open. One list: the policy schema accepts exactly these in
 * `backend.kind` and `keys[].match.backend`, and the composition root opens exactly these.
 */
export const BACKEND_KINDS = ['local', 'aws-kms', 'pkcs11'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

