/**
 * The base64 `data:` (and `binaryData:`) values of a Kubernetes Secret manifest in YAML, decoded:
 * a secret in a Secret is base64 by the API's rules, so no detector sees it in the raw text.
 * Only a buffer that declares `kind: Secret` is read; one line per value (the form `kubectl`
 * and Helm write), each value one segment.
 */
import { Buffer } from 'node:buffer';
import { takeBudget, type DecodedSegment, type ViewBudget } from './segments.js';

const KIND = /^[ \t]{0,40}(?:-[ \t]{1,8})?kind:[ \t]{0,8}["']?Secret["']?[ \t]{0,8}\r?$/m;
const DATA = /^([ \t]{0,40})(?:data|binaryData|stringData):[ \t]{0,8}\r?$/;
const ENTRY = /^([ \t]{1,60})["']?[A-Za-z0-9._-]{1,253}["']?:[ \t]{1,8}(["']?)([A-Za-z0-9+/]{4,}={0,2})\2[ \t]{0,8}\r?$/;
/** The longest value decoded (a line longer than this is counted as cut). */
const MAX_VALUE = 1024 * 1024;

export function k8sSecretSegments(bytes: Buffer, budget: ViewBudget, out: DecodedSegment[]): void {
  if (bytes.indexOf('Secret') === -1 || bytes.indexOf('ata:') === -1) return;
  // `kind:` is near the top of each document; a 64 KiB head holds it in any real manifest list,
  // and a manifest far longer still declares it once per document.
  if (!KIND.test(bytes.toString('latin1', 0, Math.min(bytes.length, 64 * 1024))) && !KIND.test(bytes.toString('latin1'))) return;
  let dataIndent = -1;
  let stringData = false;
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(10, start);
    if (end === -1) end = bytes.length;
    const len = end - start;
    if (len > MAX_VALUE + 300) {
      if (dataIndent >= 0) budget.cut++;
      start = end + 1;
      continue;
    }
    const line = bytes.toString('latin1', start, end);
    const trimmed = line.trimStart();
    const indent = line.length - trimmed.length;
    if (trimmed.length === 0 || trimmed.startsWith('#')) {
      start = end + 1;
      continue;
    }
    const d = DATA.exec(line);
    if (d) {
      dataIndent = d[1]!.length;
      stringData = trimmed.startsWith('stringData');
    } else if (dataIndent >= 0 && indent > dataIndent) {
      const e = stringData ? null : ENTRY.exec(line);
      if (e && e[3]!.length % 4 !== 1) {
        const valueAt = start + line.indexOf(e[3]!, e[1]!.length);
        const text = Buffer.from(e[3]!, 'base64');
        if (takeBudget(budget, text.length)) out.push({ view: 'k8s-secret', rawStart: valueAt, rawEnd: valueAt + e[3]!.length, text });
      }
    } else dataIndent = -1;
    start = end + 1;
  }
}
