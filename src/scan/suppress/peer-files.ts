/**
 * The peer files Keywarden reads, where each tool keeps them (at the root of the scanned tree or
 * repository), and one entry point that parses any of them by name.
 */
import { parseGitGuardianConfig } from './gitguardian.js';
import { parseGitleaksConfig, parseGitleaksIgnore } from './gitleaks.js';
import { parseSecretsBaseline } from './detect-secrets.js';
import { parseSecretlintIgnore } from './secretlint.js';
import type { ParsedPeerFile, PeerSuppressions, PeerTool } from './types.js';
export type { PeerSuppressions } from './types.js';

export interface PeerFileKind {
  tool: PeerTool;
  /** The file name the tool looks for. */
  name: string;
  parse: (text: string, file: string) => ParsedPeerFile;
}

export const PEER_FILES: readonly PeerFileKind[] = [
  { tool: 'gitleaks', name: '.gitleaksignore', parse: parseGitleaksIgnore },
  { tool: 'gitleaks', name: '.gitleaks.toml', parse: parseGitleaksConfig },
  { tool: 'detect-secrets', name: '.secrets.baseline', parse: parseSecretsBaseline },
  { tool: 'secretlint', name: '.secretlintignore', parse: parseSecretlintIgnore },
  { tool: 'gitguardian', name: '.gitguardian.yaml', parse: parseGitGuardianConfig },
  { tool: 'gitguardian', name: '.gitguardian.yml', parse: parseGitGuardianConfig },
];

/** The kind of a peer file by its name (`path/to/.gitleaksignore`), or undefined. */
export function peerFileKind(file: string, tool?: PeerTool): PeerFileKind | undefined {
  const base = file.replace(/\\/g, '/').split('/').pop() ?? '';
  const exact = PEER_FILES.find((k) => k.name === base && (!tool || k.tool === tool));
  if (exact) return exact;
  // A file named otherwise (`keywarden baseline import --from gitleaks my-ignores`): by content kind.
  if (!tool) return undefined;
  if (tool === 'gitleaks') return PEER_FILES[/\.toml$/i.test(base) ? 1 : 0];
  return PEER_FILES.find((k) => k.tool === tool);
}

export function combinePeerFiles(parsed: readonly { file: string; parsed: ParsedPeerFile }[]): PeerSuppressions {
  return {
    files: parsed.map((p) => p.file),
    rules: parsed.flatMap((p) => p.parsed.rules),
    warnings: parsed.flatMap((p) => p.parsed.warnings),
    notSuppressions: parsed.flatMap((p) => p.parsed.notSuppressions),
  };
}
