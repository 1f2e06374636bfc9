// IPv4 addresses and CIDR subnets as 32-bit numbers. Pure.
import { ParseError } from "../errors.ts";

export interface Subnet {
  /** The network address (host bits zero), as an unsigned 32-bit number. */
  network: number;
  prefixLen: number;
}

export function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

const mask = (prefixLen: number): number => (prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0);

/** "172.29.0.1/16" → the address and its subnet (what `bip` holds: the gateway and the prefix). */
export function parseCidr(text: string, what = "subnet"): { ip: number; subnet: Subnet } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  const ip = m ? parseIpv4(m[1]!) : null;
  if (!m || ip === null) throw new ParseError(`Cannot parse ${what} "${text}": not an IPv4 address/prefix length`);
  const prefixLen = Number(m[2]);
  if (prefixLen > 30 || prefixLen < 8) throw new ParseError(`Cannot parse ${what} "${text}": prefix length must be between 8 and 30`);
  return { ip, subnet: { network: (ip & mask(prefixLen)) >>> 0, prefixLen } };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIpv4(s.network)}/${s.prefixLen}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & mask(s.prefixLen)) >>> 0) === s.network;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefixLen, b.prefixLen);
  return ((a.network & mask(p)) >>> 0) === ((b.network & mask(p)) >>> 0);
}

/** First and last usable host address (network and broadcast excluded). */
export function hostRange(s: Subnet): { first: number; last: number } {
  const size = 2 ** (32 - s.prefixLen);
  return { first: s.network + 1, last: s.network + size - 2 };
}

/** Subnets of `size` bits carved from `base`, in order (Docker's default-address-pools). */
export function* carve(base: Subnet, size: number): Generator<Subnet> {
  if (size < base.prefixLen || size > 30) return;
  const step = 2 ** (32 - size);
  const count = 2 ** (size - base.prefixLen);
  for (let i = 0; i < count; i++) yield { network: (base.network + i * step) >>> 0, prefixLen: size };
}
