/**
 * Names whose value is a credential, whatever the value looks like: settings (`ssl_passphrase_command`,
 * `app.api_key`, `app.signing_secret`) and JSON keys (`administratorLoginPassword`, `client_secret`).
 * A value under such a name is redacted whole, since nothing in `abc123` says it is a secret.
 */

/** Settings named like credentials whose values are policy, not secrets: the rules need them in clear. */
const POLICY_SETTINGS = new Set(['password_encryption', 'ssl_passphrase_command_supports_reload']);

const CREDENTIAL_SETTING = /passw|passphrase|secret|pwd|token|credential|key$/i;

/** A setting (`name` or `class.name`, any case) whose value is a credential. */
export function isCredentialSetting(name: string): boolean {
  const bare = name.toLowerCase();
  return CREDENTIAL_SETTING.test(bare) && !POLICY_SETTINGS.has(bare);
}

/** JSON keys whose value is a secret, whatever it looks like (Azure bodies, app configs, JSON in any text). */
export const SECRET_JSON_KEY = /password|passwd|^pwd$|secret|connectionstring|sharedaccess|sastoken|accesstoken|credential|keys?$/i;
