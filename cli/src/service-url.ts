/**
 * A service URL as the user typed it (--host, --verifier, --issuer): with
 * its scheme, or `host:port` on loopback, which gets http://. Anything else
 * without a scheme is refused rather than guessed: guessing https could hang
 * on a plain server, guessing http would send data in clear.
 */
import { UsageError } from './usage-error.js';

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export function serviceUrl(value: string, flag: string): string {
  const text = value.trim().replace(/\/+$/, '');
  const shown = JSON.stringify(value.slice(0, 100));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`${flag} ${shown} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UsageError(`${flag} takes an http:// or https:// URL, not ${shown}`);
    return text;
  }
  const authority = text.split('/')[0] ?? '';
  const host = authority.replace(/:\d{1,5}$/, '');
  if (LOOPBACK.test(host)) return `http://${text}`;
  throw new UsageError(
    `${flag} ${shown} has no scheme: write https://${text} (or http:// to send in clear on purpose)`,
  );
}
