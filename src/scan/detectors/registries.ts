/** Package and image registries: npm tokens and `.npmrc` auth, PyPI upload tokens, Docker `config.json` auths. */
import type { Detector } from '../types.js';
import { isPlaceholderInBase64 } from './generic.js';
import { decodeBase64, hasValidTokenChecksum, isPlaceholder, shannonEntropy } from './util.js';

const npmAccessToken: Detector = {
  id: 'npm-access-token',
  type: 'npm-token',
  title: 'npm access token',
  severity: 'critical',
  confidence: 'high',
  keywords: ['npm_'],
  // npm's 2021 format is GitHub's: 30 random characters and a base62 CRC32 checksum.
  pattern: /(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9_])/,
  verify: (s) => hasValidTokenChecksum(s.slice(4)),
  docs: 'https://docs.npmjs.com/about-access-tokens',
};

const npmrcAuthToken: Detector = {
  id: 'npmrc-auth-token',
  type: 'npm-token',
  title: 'Registry credential in .npmrc (_authToken, _auth, _password)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['_auth', '_password'],
  // `//registry.npmjs.org/:_authToken=…`, `_auth=…` (base64 user:pass), `:_password=…` (base64).
  // `${NPM_TOKEN}` references never match: `$` is not a value character.
  // Real values are UUIDs (legacy tokens), `npm_…` tokens or base64 of user:password: 16+ characters.
  pattern: /(?:^|[\s:'"])(?:_authToken|_auth|_password)[ \t]{0,3}=[ \t]{0,3}["']?(?<secret>[^\s"'$;#]{16,512})/m,
  verify: (s) =>
    !isPlaceholder(s) &&
    !/token|secret|password|passwd/i.test(s) &&
    !isPlaceholderInBase64(s) &&
    shannonEntropy(s) >= 3.0 &&
    !/^[a-z_$][\w$]*(?:\.[\w$]+)+$/i.test(s),
  docs: 'https://docs.npmjs.com/cli/v10/configuring-npm/npmrc#auth-related-configuration',
};

const pypiUploadToken: Detector = {
  id: 'pypi-upload-token',
  type: 'pypi-token',
  title: 'PyPI API token',
  severity: 'critical',
  confidence: 'high',
  keywords: ['pypi-age'],
  // A macaroon whose location is pypi.org (`AgEIcHlwaS5vcmc`) or test.pypi.org (`AgENdGVzdC5weXBpLm9yZw`).
  pattern: /(?<![A-Za-z0-9_-])(pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000})(?![A-Za-z0-9_-])/,
  verify: (s) => !isPlaceholder(s.slice(20)),
  docs: 'https://pypi.org/help/#apitoken',
};

const dockerConfigAuth: Detector = {
  id: 'docker-config-auth',
  type: 'docker-registry-auth',
  title: 'Docker registry credential (config.json "auths")',
  severity: 'high',
  confidence: 'high',
  keywords: ['"auths"'],
  // Bounded spaces (not `\s*`): the engine derives from the pattern how far a match can reach.
  pattern: /"auth"\s{0,64}:\s{0,64}"(?<secret>[A-Za-z0-9+/]{8,2000}={0,2})"/,
  multiline: true,
  window: { before: 16, after: 8192 },
  verify: (s) => {
    const decoded = decodeBase64(s)?.toString('utf8');
    if (!decoded) return false;
    const colon = decoded.indexOf(':');
    if (colon <= 0 || /[\0-\x1f]/.test(decoded)) return false;
    const password = decoded.slice(colon + 1);
    return password.length >= 4 && !isPlaceholder(password);
  },
  docs: 'https://docs.docker.com/reference/cli/docker/login/#credential-stores',
};

export const registryDetectors: readonly Detector[] = [npmAccessToken, npmrcAuthToken, pypiUploadToken, dockerConfigAuth];
