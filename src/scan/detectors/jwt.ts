/** JSON Web Tokens (JWS compact form). The header must decode to JSON with a real `alg`. */
import type { Detector } from '../types.js';
import { decodeBase64Json } from './util.js';

/** True when the three-part token's header names a signing algorithm and the payload is a JSON object. */
function isSignedJwt(token: string): boolean {
  const [h, p, sig] = token.split('.');
  if (h === undefined || p === undefined || sig === undefined) return false;
  const header = decodeBase64Json(h);
  const alg = header?.['alg'];
  if (typeof alg !== 'string' || alg.length === 0 || alg.toLowerCase() === 'none') return false;
  return decodeBase64Json(p) !== undefined;
}

export const jwt: Detector = {
  id: 'jwt',
  type: 'jwt',
  title: 'JSON Web Token',
  severity: 'medium',
  confidence: 'medium',
  keywords: ['eyj'],
  pattern: /(?<![A-Za-z0-9_.-])(eyJ[A-Za-z0-9_-]{12,2000}\.ey[A-Za-z0-9_-]{10,8000}\.[A-Za-z0-9_-]{16,2000})(?![A-Za-z0-9_.=-])/,
  // Access tokens with many claims run to several kilobytes.
  window: { before: 16, after: 12_100 },
  verify: (s) => isSignedJwt(s),
  docs: 'https://www.rfc-editor.org/rfc/rfc7519',
};

export const jwtDetectors: readonly Detector[] = [jwt];
