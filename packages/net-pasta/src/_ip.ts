/**
 * IP addresses and prefixes as plain data (no node:net: this file is pure
 * and typechecks with `types: []`). An address is its family and a bigint.
 */

export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
}

export interface Prefix {
  family: Family;
  /** The network address (host bits cleared). */
  value: bigint;
  length: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function parseIPv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

export function parseIPv6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const items = half.split(":");
    for (const [i, item] of items.entries()) {
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIPv4(item);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) {
        out.push(Number.parseInt(item, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + tail.length > 7) return null;
  const all = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  return all.reduce((acc: bigint, g: number) => (acc << 16n) | BigInt(g), 0n);
}

/** An IPv4 or IPv6 address (no brackets, no zone), or null. */
export function parseAddress(text: string): Address | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = text.includes(":") ? parseIPv6(text) : null;
  return v6 === null ? null : { family: 6, value: v6 };
}

/** `ADDR/LEN`; host bits must be zero (a typo in a firewall rule is an error, not a guess). */
export function parsePrefix(text: string): Prefix | { error: string } | null {
  const slash = text.indexOf("/");
  if (slash < 0) return null;
  const addr = parseAddress(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(lenText)) return null;
  const length = Number(lenText);
  if (length > BITS[addr.family]) return { error: `prefix length /${length} is too long` };
  const mask = prefixMask(addr.family, length);
  if ((addr.value & ~mask & maxValue(addr.family)) !== 0n)
    return {
      error: `host bits are set (did you mean ${formatAddress({ family: addr.family, value: addr.value & mask })}/${length}?)`,
    };
  return { family: addr.family, value: addr.value, length };
}

function maxValue(family: Family): bigint {
  return (1n << BigInt(BITS[family])) - 1n;
}

function prefixMask(family: Family, length: number): bigint {
  const bits = BigInt(BITS[family]);
  return length === 0
    ? 0n
    : (maxValue(family) >> (bits - BigInt(length))) << (bits - BigInt(length));
}

export function prefixContains(prefix: Prefix, addr: Address): boolean {
  return (
    prefix.family === addr.family &&
    (addr.value & prefixMask(prefix.family, prefix.length)) === prefix.value
  );
}

export function formatAddress(addr: Address): string {
  if (addr.family === 4)
    return [24n, 16n, 8n, 0n].map((s) => String((addr.value >> s) & 0xffn)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) =>
    Number((addr.value >> BigInt(112 - 16 * i)) & 0xffffn),
  );
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

export function formatPrefix(prefix: Prefix): string {
  return `${formatAddress(prefix)}/${prefix.length}`;
}

function p(text: string, why: string): { prefix: Prefix; why: string } {
  const parsed = parsePrefix(text);
  if (!parsed || "error" in parsed) throw new Error(`bad built-in prefix ${text}`);
  return { prefix: parsed, why };
}

/**
 * Destinations denied unless a rule names them explicitly (an IP or CIDR
 * rule; a domain never unlocks them): loopback, private, shared, link-local
 * (cloud metadata), multicast, reserved, and the IPv6 forms that embed or
 * translate to such addresses.
 */
export const ALWAYS_DENIED: readonly { prefix: Prefix; why: string }[] = [
  p("0.0.0.0/8", "this network"),
  p("10.0.0.0/8", "private (RFC 1918)"),
  p("100.64.0.0/10", "shared address space (CGNAT, RFC 6598)"),
  p("127.0.0.0/8", "loopback"),
  p("169.254.0.0/16", "link-local (includes the cloud metadata service 169.254.169.254)"),
  p("172.16.0.0/12", "private (RFC 1918)"),
  p("192.0.0.0/24", "IETF protocol assignments"),
  p("192.168.0.0/16", "private (RFC 1918)"),
  p("224.0.0.0/4", "multicast"),
  p("240.0.0.0/4", "reserved and broadcast"),
  p("::/128", "unspecified"),
  p("::1/128", "loopback"),
  p("::ffff:0:0/96", "IPv4-mapped"),
  p("64:ff9b::/96", "NAT64"),
  p("64:ff9b:1::/48", "local-use NAT64"),
  p("100::/64", "discard-only"),
  p("fc00::/7", "unique local (ULA)"),
  p("fe80::/10", "link-local"),
  p("fec0::/10", "site-local (deprecated)"),
  p("ff00::/8", "multicast"),
];

/** Why `addr` is always denied, or null if it is an ordinary public address. */
export function specialRange(addr: Address): string | null {
  for (const { prefix, why } of ALWAYS_DENIED) if (prefixContains(prefix, addr)) return why;
  return null;
}
