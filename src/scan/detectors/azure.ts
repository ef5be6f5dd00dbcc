/** Azure: storage account keys (in connection strings or named as such), Service Bus / Event Hubs shared access keys, Entra ID client secrets, SAS signatures. */
import type { Detector } from '../types.js';
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
  keywords: ['q~'],
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

export const azureDetectors: readonly Detector[] = [azureStorageConnectionString, azureStorageAccountKey, azureSharedAccessKey, azureAdClientSecret, azureSasToken];
