import { isIP } from 'node:net';
import type { Config } from '../config.js';
import { isAllowedAddress } from '../delivery/ssrf.js';
import { ServiceError } from '../errors.js';

/**
 * Checks a webhook URL when it is configured: absolute, https (http only when WEBHOOK_ALLOW_HTTP), no
 * credentials, and not a literal private address. Host names are checked again when each delivery connects.
 */
export function checkWebhookUrl(raw: string, webhooks: Pick<Config['webhooks'], 'allowHttp' | 'allowedPrivateCidrs'>, field = 'url'): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ServiceError('invalid_input', `${field} must be an absolute URL`, { field });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && webhooks.allowHttp)) {
    throw new ServiceError('invalid_input', `${field} must be an https URL`, { field });
  }
  if (url.username !== '' || url.password !== '') {
    throw new ServiceError('invalid_input', `${field} must not contain credentials`, { field });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : isIP(host) ? host : undefined;
  if (literal !== undefined && !isAllowedAddress(literal, webhooks.allowedPrivateCidrs)) {
    throw new ServiceError('unprocessable', `${field} points to a private or reserved address`, { field });
  }
  return url.href;
}
