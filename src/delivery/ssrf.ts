/**
 * SSRF guard for webhook endpoints, enforced when the socket connects: the address checked is the address
 * dialled, so DNS rebinding between a check and the request cannot slip through.
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';
import { REFUSED_ADDRESS_CODE } from './outcome.js';

export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
  readonly code = REFUSED_ADDRESS_CODE;
  constructor(hostname: string) {
    super(`refusing to connect to ${hostname}: no public address`);
  }
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Throws for a malformed CIDR, so a bad allow-list fails at startup rather than at the first delivery. */
export function parseCidrs(cidrs: readonly string[]): Cidr[] {
  return cidrs.map((cidr) => {
    try {
      return ipaddr.parseCIDR(cidr);
    } catch {
      throw new Error(`invalid CIDR in webhook allow-list: ${JSON.stringify(cidr)}`);
    }
  });
}

/** Public unicast, or inside an allowed CIDR. IPv4-mapped IPv6 is judged as the IPv4 address it carries. */
export function isAllowedAddress(ip: string, allowedCidrs: readonly string[] | readonly Cidr[]): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip.replace(/^\[(.*)\]$/, '$1'));
  } catch {
    return false;
  }
  if (addr.range() === 'unicast') return true;
  const cidrs = allowedCidrs.map((c) => (typeof c === 'string' ? parseCidrs([c])[0]! : c));
  return cidrs.some(([range, bits]) => range.kind() === addr.kind() && addr.match(range, bits));
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `dns.lookup` replacement that drops disallowed addresses and fails when none is left; honours `all: true`. */
export function guardedLookup(allowed: readonly Cidr[]) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const usable = addresses.filter((a) => isAllowedAddress(a.address, allowed));
      const first = usable[0];
      if (first === undefined) return callback(new RefusedAddressError(hostname), []);
      if (options.all) return callback(null, usable);
      callback(null, first.address, first.family);
    });
  };
}

export interface WebhookDispatcherOptions {
  allowedPrivateCidrs: readonly string[];
  connectTimeoutMs: number;
}

/**
 * The webhook HTTP dispatcher: never follows redirects (plain undici requests don't), refuses non-public
 * addresses at connect time. Node skips `lookup` for IP literals, so those are checked before dialling.
 */
export function createWebhookDispatcher(opts: WebhookDispatcherOptions): Agent {
  const allowed = parseCidrs(opts.allowedPrivateCidrs);
  const connector = buildConnector({ timeout: opts.connectTimeoutMs, lookup: guardedLookup(allowed) });
  return new Agent({
    connect: (options, callback) => {
      if (isIP(options.hostname) !== 0 && !isAllowedAddress(options.hostname, allowed)) {
        return callback(new RefusedAddressError(options.hostname), null);
      }
      connector(options, callback);
    },
  });
}
