/**
 * Cloud, infrastructure, developer-platform, CI and AI providers beyond the families in their own files.
 */
import type { Detector } from '../types.js';

export const cloudDetectors: readonly Detector[] = [];
