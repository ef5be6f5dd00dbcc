/** AI providers: OpenAI, Anthropic, Hugging Face. */
import type { Detector } from '../types.js';
import { classCount, isPlaceholder } from './util.js';

const openaiApiKey: Detector = {
  id: 'openai-api-key',
  type: 'openai-api-key',
  title: 'OpenAI API key',
  severity: 'critical',
  confidence: 'high',
  // Every OpenAI key embeds `T3BlbkFJ` (base64 of "OpenAI"), a rare literal to anchor on.
  keywords: ['t3blbkfj'],
  pattern:
    /(?<![A-Za-z0-9_-])(sk-(?:(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9_-]{20,100}T3BlbkFJ[A-Za-z0-9_-]{20,100}))(?![A-Za-z0-9_-])/,
  verify: (s) => !isPlaceholder(s.replace(/^sk-(?:proj|svcacct|admin)-/, '')),
  docs: 'https://platform.openai.com/docs/api-reference/authentication',
};

const anthropicApiKey: Detector = {
  id: 'anthropic-api-key',
  type: 'anthropic-api-key',
  title: 'Anthropic API key',
  severity: 'critical',
  confidence: 'high',
  keywords: ['sk-ant-'],
  pattern: /(?<![A-Za-z0-9_-])(sk-ant-(?:api|admin)0\d-[A-Za-z0-9_-]{80,128}AA)(?![A-Za-z0-9_-])/,
  verify: (s) => !isPlaceholder(s.slice(s.indexOf('-', 7) + 1)),
  docs: 'https://docs.anthropic.com/en/api/getting-started',
};

const huggingfaceToken: Detector = {
  id: 'huggingface-token',
  type: 'huggingface-token',
  title: 'Hugging Face access token',
  severity: 'high',
  confidence: 'high',
  keywords: ['hf_', 'api_org_'],
  pattern: /(?<![A-Za-z0-9_])((?:hf_|api_org_)[A-Za-z]{34})(?![A-Za-z0-9_])/,
  // Random 34-letter tails mix cases; identifiers such as `hf_hub_download_…` do not match the shape anyway.
  verify: (s) => {
    const tail = s.startsWith('hf_') ? s.slice(3) : s.slice(8);
    return !isPlaceholder(tail) && classCount(tail) >= 2 && /[A-Z].*[A-Z].*[A-Z]/.test(tail) && /[a-z].*[a-z].*[a-z]/.test(tail);
  },
  docs: 'https://huggingface.co/docs/hub/security-tokens',
};

export const aiDetectors: readonly Detector[] = [openaiApiKey, anthropicApiKey, huggingfaceToken];
