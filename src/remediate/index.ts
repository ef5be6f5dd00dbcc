/**
 * The remediation patch: pure functions, text in, text out. They remove a leaked secret from a
 * file and point the code at an environment variable (or a safe value such as a new key id), merge
 * `.env.example` and `.gitignore`, rewrite references to a rotated key, and write the commit
 * message and the `REMEDIATION.md` section. No I/O: the pipeline reads and writes the files.
 *
 * API:
 * - `patchFile(input: PatchFileInput): PatchFileResult` (`patch-file.ts`)
 * - `mergeEnvExample(existing: string | undefined, names: Array<{ name: string; comment?: string }>): string`
 * - `mergeGitignore(existing: string | undefined, lines: string[]): string`
 * - `updateReferences(text: string, replacements: Array<{ from: string; to: string }>): { text: string; count: number }`
 * - `renderRemediation(summary: RemediationSummary): { commitMessage: string; markdown: string }`
 */
export { patchFile, gitignoreLine } from './patch-file.js';
export { mergeEnvExample } from './merge-env-example.js';
export { mergeGitignore } from './merge-gitignore.js';
export { updateReferences } from './update-references.js';
export { renderRemediation } from './render-remediation.js';
export { envExpression } from './patch-typescript.js';
export type {
  EnvVarRef,
  PatchFileInput,
  PatchFileResult,
  PatchSite,
  RemediationFinding,
  RemediationSummary,
  Replacement,
  SiteOutcome,
  SiteOutcomeKind,
} from './types.js';
