/** The backend flags every command that opens a backend takes, as the composition root's settings. */
import type { BackendSettings } from '../backends/open-backend.js';

export interface BackendFlags {
  backend?: string;
  keystore?: string;
  region?: string;
  endpoint?: string;
  pkcs11Library?: string;
  pkcs11Token?: string;
}

export function backendSettingsOf(flags: BackendFlags): BackendSettings {
  return {
    ...(flags.backend ? { kind: flags.backend } : {}),
    ...(flags.keystore ? { keystore: flags.keystore } : {}),
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
    ...(flags.pkcs11Library ? { library: flags.pkcs11Library } : {}),
    ...(flags.pkcs11Token ? { token: flags.pkcs11Token } : {}),
  };
}
