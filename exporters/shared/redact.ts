/**
 * Endpoints as they may appear in logs and error messages. A URL's userinfo is a credential
 * (`http://user:password@host`, or a token as the user name), and config values may come from
 * `${env:VAR}` secrets: the password (or a lone user name) is replaced by `***`, and a value
 * that does not parse as a URL is never echoed, since where its credentials sit is unknown.
 */

export const REDACTED = '***';

/** `url` for a log line: `http://user:***@host:4318/v1/traces`; `***@host` for a user name alone. */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return `(an invalid URL of ${String(url).length} characters, not shown)`;
  }
  if (parsed.password) parsed.password = REDACTED;
  else if (parsed.username) parsed.username = REDACTED;
  return parsed.href;
}
