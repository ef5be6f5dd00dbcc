/** Azure: storage account keys (in connection strings or named as such), Service Bus / Event Hubs shared access keys, Entra ID client secrets, SAS signatures. */
import type { Detector } from '../types.js';
import { anchored, token } from './cloud.js';
import { classCount, isKnownExample, isPlaceholder, shannonEntropy } from './util.js';

const plausibleBase64Key = (s: string): boolean => !isKnownExample(s) && !isPlaceholder(s) && classCount(s.replace(/=+$/, '')) >= 3 && shannonEntropy(s) >= 4.2;

const azureStorageConnectionString: Detector = {
  id: 'azure-storage-connection-string',
  type: 'azure-storage-key',
  title: 'Azure Storage account key in a connection string',
  severity: 'critical',
  confidence: 'high',
  keywords: ['accountkey'],
  // `AccountKey=<88 base64 chars>` (a 64-byte key).
  pattern: /AccountKey\s{0,2}=\s{0,2}([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])/i,
  verify: plausibleBase64Key,
  docs: 'https://learn.microsoft.com/azure/storage/common/storage-account-keys-manage',
};

const azureStorageAccountKey: Detector = {
  id: 'azure-storage-account-key',
  type: 'azure-storage-key',
  title: 'Azure Storage account key',
  severity: 'critical',
  confidence: 'medium',
  keywords: ['azure', 'storage_key', 'storagekey', 'storage-key', 'storage_account_key', 'storageaccountkey'],
  // An 88-character base64 value (ending in `==`) on a line that names Azure or a storage key.
  pattern: /(?<![A-Za-z0-9+/]|sha512-)([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])/,
  verify: plausibleBase64Key,
  docs: 'https://learn.microsoft.com/azure/storage/common/storage-account-keys-manage',
};

const azureSharedAccessKey: Detector = {
  id: 'azure-shared-access-key',
  type: 'azure-shared-access-key',
  title: 'Azure Service Bus / Event Hubs / IoT Hub shared access key',
  severity: 'high',
  confidence: 'high',
  keywords: ['sharedaccesskey='],
  pattern: /SharedAccessKey=([A-Za-z0-9+/]{42,43}=)(?![A-Za-z0-9+/=])/i,
  verify: plausibleBase64Key,
  docs: 'https://learn.microsoft.com/azure/service-bus-messaging/service-bus-sas',
};

const azureAdClientSecret: Detector = {
  id: 'azure-ad-client-secret',
  type: 'azure-client-secret',
  title: 'Microsoft Entra ID (Azure AD) client secret',
  severity: 'critical',
  confidence: 'high',
  keywords: ['Q~'],
  keywordCase: 'exact',
  // 3 characters, a digit, `Q~`, then 31–34 characters of [A-Za-z0-9_~.-].
  pattern: /(?<![A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])/,
  verify: (s) => !isPlaceholder(s) && classCount(s.slice(6)) >= 3 && shannonEntropy(s) >= 3.8,
  docs: 'https://learn.microsoft.com/entra/identity-platform/howto-create-service-principal-portal',
};

const azureSasToken: Detector = {
  id: 'azure-sas-token',
  type: 'azure-sas-token',
  title: 'Azure shared access signature (SAS)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['sig='],
  // A SAS query string: a `sv=` service version, then the `sig=` signature (URL-encoded base64 of an HMAC-SHA256).
  pattern: /[?&;]sv=\d{4}-\d{2}-\d{2}&[^\s"'`<>]{0,300}?&sig=((?:[A-Za-z0-9]|%2[BbFf]){40,100}(?:%3[Dd]|=){0,2})(?![A-Za-z0-9%])/,
  verify: (s) => !isPlaceholder(decodeURIComponent(s)) && shannonEntropy(s) >= 4.0,
  docs: 'https://learn.microsoft.com/azure/storage/common/storage-sas-overview',
};

const azureCosmosDbKey: Detector = {
  id: 'azure-cosmos-db-key',
  type: 'azure-cosmos-db-key',
  title: 'Azure Cosmos DB account key',
  severity: 'critical',
  confidence: 'high',
  keywords: ['documents.azure.com', 'cosmos'],
  // A connection string (`AccountEndpoint=https://x.documents.azure.com:443/;AccountKey=…`) or a key named for Cosmos.
  pattern:
    /(?:documents\.azure\.com[:\d/]{0,8};\s{0,2}AccountKey=|cosmos[\w.-]{0,30}?key["'`]?\s{0,4}(?::=|=>|=|:)\s{0,4}["'`]?)([A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])/i,
  verify: plausibleBase64Key,
  // Beats the storage-key rules, which see the same `AccountKey=`.
  priority: 15,
  docs: 'https://learn.microsoft.com/azure/cosmos-db/database-security#primary-keys',
};

const azureDevopsPat = token({
  id: 'azure-devops-pat',
  type: 'azure-devops-token',
  title: 'Azure DevOps personal access token',
  severity: 'critical',
  // The 84-character format carries the `AZDO` signature at positions 76–79.
  keywords: ['azdo'],
  pattern: /(?<![A-Za-z0-9])([A-Za-z0-9]{52}JQQJ9[A-Za-z0-9]{19}AZDO[A-Za-z0-9]{4})(?![A-Za-z0-9])/,
  prefixLength: 0,
  minEntropy: 4.0,
  docs: 'https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate',
});

const azureDevopsPatLegacy = anchored({
  id: 'azure-devops-pat-legacy',
  type: 'azure-devops-token',
  title: 'Azure DevOps personal access token (52-character format)',
  severity: 'critical',
  words: ['azure_devops', 'azuredevops', 'azure-devops', 'devops_pat', 'ado_pat', 'vsts', 'system_accesstoken'],
  value: '[a-z2-7]{52}',
  shape: /^[a-z2-7]{52}$/,
  minEntropy: 3.8,
  docs: 'https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate',
});

const azureFunctionKey: Detector = {
  id: 'azure-function-key',
  type: 'azure-function-key',
  title: 'Azure Functions access key',
  severity: 'high',
  confidence: 'medium',
  keywords: ['x-functions-key', 'functions_key', 'function_key', 'functionkey', 'functionskey', '.azurewebsites.net/api/'],
  // `x-functions-key: …`, a key named for Functions, or `?code=…` on a function URL (newer keys carry `AzFu`).
  pattern:
    /(?:(?:x-functions-key|functions?_?key)["'`]?\s{0,4}(?::=|=>|=|:|,)\s{0,4}["'`]?|\.azurewebsites\.net\/api\/[\w/-]{1,80}\?(?:[\w-]{1,20}=[\w%.-]{0,80}&){0,3}code=)([A-Za-z0-9_/+-]{40,60}={0,2})(?![A-Za-z0-9_/+=-])/i,
  verify: (s) => !isPlaceholder(s) && !isKnownExample(s) && classCount(s.replace(/=+$/, '')) >= 3 && shannonEntropy(s) >= 4.0,
  docs: 'https://learn.microsoft.com/azure/azure-functions/function-keys-how-to',
};

const azureAppConfiguration: Detector = {
  id: 'azure-app-configuration-connection-string',
  type: 'azure-app-configuration-key',
  title: 'Azure App Configuration connection string secret',
  severity: 'high',
  confidence: 'high',
  keywords: ['azconfig.io'],
  pattern: /Endpoint=https:\/\/[A-Za-z0-9-]{1,60}\.azconfig\.io;\s{0,2}Id=[A-Za-z0-9+/=:-]{4,40};\s{0,2}Secret=([A-Za-z0-9+/]{40,88}={0,2})(?![A-Za-z0-9+/=])/i,
  window: { before: 200, after: 300 },
  verify: (s) => !isPlaceholder(s) && shannonEntropy(s) >= 4.0,
  docs: 'https://learn.microsoft.com/azure/azure-app-configuration/howto-disable-access-key-authentication',
};

const azureOpenaiKey = anchored({
  id: 'azure-openai-api-key',
  type: 'azure-openai-api-key',
  title: 'Azure OpenAI / Azure AI services key',
  severity: 'critical',
  words: ['azure_openai', 'azureopenai', 'azure-openai', 'aoai_', 'azure_ai_', 'cognitive_services', 'cognitiveservices'],
  value: '[a-f0-9]{32}|[a-z0-9]{84}',
  shape: /^(?:[a-f0-9]{32}|[A-Za-z0-9]{84})$/,
  docs: 'https://learn.microsoft.com/azure/ai-services/authentication',
});

const azureSearchAdminKey = anchored({
  id: 'azure-search-admin-key',
  type: 'azure-search-key',
  title: 'Azure AI Search admin key',
  severity: 'critical',
  words: ['azure_search', 'azuresearch', 'azure-search', 'search.windows.net', 'search_admin_key', 'search_api_key'],
  value: '[a-z0-9]{52}|[a-f0-9]{32}',
  shape: /^(?:[A-Za-z0-9]{42}AzSe[A-Za-z0-9]{6}|[A-F0-9]{32})$/,
  docs: 'https://learn.microsoft.com/azure/search/search-security-api-keys',
});

export const azureDetectors: readonly Detector[] = [
  azureStorageConnectionString,
  azureStorageAccountKey,
  azureSharedAccessKey,
  azureAdClientSecret,
  azureSasToken,
  azureCosmosDbKey,
  azureDevopsPat,
  azureDevopsPatLegacy,
  azureFunctionKey,
  azureAppConfiguration,
  azureOpenaiKey,
  azureSearchAdminKey,
];
