/**
 * HTTP and command-line credentials: curl and Authorization headers, .netrc, .git-credentials, .npmrc, .pypirc, Docker config auths.
 */
import type { Detector } from '../types.js';

export const credentialsCliDetectors: readonly Detector[] = [];
