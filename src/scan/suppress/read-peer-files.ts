/**
 * Reads the peer files of a scan through a reader the caller chooses (a folder on disk, or a
 * revision of the repository through a git `PolicySource`), and parses each one.
 *
 * Never throws for a peer file: one that cannot be read (a symlink, more than 1 MiB, a
 * submodule) or parsed becomes a `KW_PEER_IGNORE_*` warning and the scan goes on without it, so
 * a broken or hostile ignore file can only make the scan report more, never crash or hang it.
 */
import { isKeywardenError } from '../../errors.js';
import { PEER_FILES, combinePeerFiles } from './peer-files.js';
import { peerWarning } from './patterns.js';
import type { ParsedPeerFile, PeerSuppressions } from './types.js';

/** Reads one repository-relative file; undefined when it does not exist. May throw. */
export type PeerFileRead = (name: string) => Promise<string | undefined>;

/**
 * @example
 * const source = createDiskPolicySource(root);
 * const peer = await readPeerSuppressions((name) => source.read(name));
 */
export async function readPeerSuppressions(read: PeerFileRead): Promise<PeerSuppressions> {
  const parsed: { file: string; parsed: ParsedPeerFile }[] = [];
  for (const kind of PEER_FILES) {
    let text: string | undefined;
    try {
      text = await read(kind.name);
    } catch (e) {
      const why = isKeywardenError(e) ? `${e.code}${typeof e.details?.reason === 'string' ? `, ${e.details.reason}` : ''}` : 'unreadable';
      const w = peerWarning('KW_PEER_IGNORE_UNREADABLE', { file: kind.name }, `cannot be read (${why}); its suppressions are not applied.`);
      parsed.push({ file: kind.name, parsed: { rules: [], warnings: [w], notSuppressions: [] } });
      continue;
    }
    if (text === undefined) continue;
    parsed.push({ file: kind.name, parsed: parsePeerText(kind.parse, text, kind.name) });
  }
  return combinePeerFiles(parsed);
}

/** A parser run so that nothing it meets (a stack overflow in deep nesting included) escapes as a crash. */
export function parsePeerText(parse: (text: string, file: string) => ParsedPeerFile, text: string, file: string): ParsedPeerFile {
  try {
    return parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, file);
  } catch {
    return { rules: [], warnings: [peerWarning('KW_PEER_IGNORE_INVALID', { file }, 'cannot be parsed; its suppressions are not applied.')], notSuppressions: [] };
  }
}
