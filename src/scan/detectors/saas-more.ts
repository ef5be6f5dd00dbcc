/**
 * Business SaaS, payments, messaging and the keyword-anchored long tail.
 */
import type { Detector } from '../types.js';

export const saasMoreDetectors: readonly Detector[] = [];
