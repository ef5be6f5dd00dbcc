/**
 * A finding: one detected secret at one place. It never carries the raw secret: only its SHA-256
 * fingerprint, a redacted preview, and — where the credential has one — its public identity.
 */

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Confidence = 'high' | 'medium' | 'low';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/**
 * The public identity of a leaked credential: what lets Keywarden find the thing to revoke
 * without ever holding the secret outside the scan. Every field is safe to print and store.
 */
export interface CredentialIdentity {
  /**
   * - `aws-access-key`: `id` is the access key ID (AKIA…/ASIA…), which AWS treats as public;
   * - `github-token`: `subtype` is the token kind (`classic-pat`, `fine-grained-pat`, `oauth`,
   *   `user-to-server`, `server-to-server`, `refresh`); GitHub's revocation API takes the token
   *   itself, so the act stage re-reads it from the source;
   * - `public-key`: `id` is `sha256:` + hex SHA-256 of the public key's SPKI DER, `sshFingerprint`
   *   the OpenSSH `SHA256:` + unpadded base64 of SHA-256 of its wire format (absent where SSH has
   *   no format for the key), `subtype` the algorithm (`rsa-2048`, `ec-p256`, `ec-p384`, `ec-p521`,
   *   `ed25519`, `dsa-1024`, …); an encrypted PEM key hides its public half: `subtype: 'encrypted'`
   *   and no `id`; a DSA or FIDO (`sk-ed25519`) OpenSSH key has `sshFingerprint` but no `id`;
   * - `keywarden-key`: key material exported by the local keystore: `id` is `<key id>:<version>`
   *   as the token claims it; the keystore confirms it by a keyed fingerprint before acting.
   */
  kind: 'aws-access-key' | 'github-token' | 'public-key' | 'keywarden-key' | (string & {});
  id?: string;
  subtype?: string;
  sshFingerprint?: string;
  /**
   * `public-key`: true when the private key in the file signed a challenge its public key
   * verifies. A public key is public: one copied into a file's header (OpenSSH, PuTTY) or beside a
   * made-up private part is not proof of a leak, and the response never acts on it.
   */
  proven?: boolean;
}

export interface Finding {
  ruleId: string;
  type: string;
  title: string;
  severity: Severity;
  confidence: Confidence;
  /**
   * Path relative to the scan root, with forward slashes. `-` for standard input. Names are bytes:
   * a valid UTF-8 name is shown as it is (control characters included: JSON escapes them, and the
   * text output escapes them so a name cannot forge lines or drive a terminal); in a name that is
   * not valid UTF-8 every byte outside a valid sequence is written `\xNN` and a backslash `\\`
   * (`displayName` in `display-name.ts`). SARIF percent-encodes the bytes this stands for.
   */
  file: string;
  /**
   * For a finding inside an archive (a zip member): the member's path in the archive, shown like
   * `file`; lines and columns then count in the member's content.
   */
  member?: string;
  /**
   * 1-based. In a UTF-16 file, of the decoded text. In a binary scanned for printable runs (as
   * `strings` does), always 1, and the columns are 1 + the byte offset in the file.
   */
  startLine: number;
  /** 1-based, in UTF-16 code units of the line (as editors and SARIF count). */
  startColumn: number;
  endLine: number;
  /** 1-based, exclusive. */
  endColumn: number;
  /** `sha256:` + hex SHA-256 of the secret. */
  fingerprint: string;
  /** A preview such as `AKIA…Z7QX`; never more than 8 characters of the secret. */
  redacted: string;
  /** For git scans: the commit that added the line. */
  commit?: string;
  author?: string;
  authorEmail?: string;
  /** ISO 8601 commit date. */
  date?: string;
  /** The credential's public identity, where it has one (never the secret). */
  identity?: CredentialIdentity;
}
