/**
 * The nftables ruleset loaded into the sandbox's network namespace before
 * the command starts. Pure: the host's addresses are passed in.
 *
 * Output is default-deny. In order: replies of accepted flows; the DNS
 * service (sandbox 127.0.0.1:53, which pasta maps to our filtering resolver
 * on the host); the sandbox's own loopback; IPv6 neighbour discovery and
 * multicast listener reports to pasta (link scope only); the explicit IP/CIDR rules (which may name an
 * otherwise denied address); the always-denied ranges and the host's own
 * addresses; the addresses our DNS service resolved for allowed names
 * (sets with timeouts); everything else is denied. A denied TCP connect
 * gets a reset, anything else an ICMP error, so nothing hangs; the
 * destination is recorded in a set the runtime reads back for the report.
 */
import { type Address, ALWAYS_DENIED, formatAddress, formatPrefix, type Prefix } from "./_ip.js";
import type { PortRange, Rule } from "./_rules.js";

export const NFT_TABLE = "mini_sandbox";
/** Where sandbox programs send DNS queries (pasta maps it to our service). */
export const DNS_STUB = { address: "127.0.0.1", port: 53 } as const;

export interface FirewallInput {
  rules: readonly Rule[];
  /** The host's own addresses (denied unless a rule names them). */
  hostAddresses: readonly Address[];
}

function ports(range: PortRange | null): string {
  if (!range) return "";
  const p = range.low === range.high ? `${range.low}` : `${range.low}-${range.high}`;
  return ` meta l4proto { tcp, udp } th dport ${p}`;
}

function elements(items: string[]): string {
  return items.length ? ` elements = { ${items.join(", ")} };` : "";
}

/** The whole ruleset, for `nft -f -` (it replaces any earlier table of ours). */
export function firewallScript({ rules, hostAddresses }: FirewallInput): string {
  const deny = (family: 4 | 6) => [
    ...ALWAYS_DENIED.filter((d) => d.prefix.family === family).map((d) => formatPrefix(d.prefix)),
    ...hostAddresses.filter((a) => a.family === family).map((a) => formatAddress(a)),
  ];
  const explicit = rules
    .filter((r): r is Rule & { prefix: Prefix } => r.kind === "address" || r.kind === "prefix")
    .map((r) => {
      const field = r.prefix.family === 4 ? "ip daddr" : "ip6 daddr";
      const target =
        r.kind === "address" ? formatAddress(r.prefix) : formatPrefix(r.prefix as Prefix);
      return `    ${field} ${target}${ports(r.ports)} accept comment ${JSON.stringify(r.text)}`;
    });
  const tuple = "ipv4_addr . inet_proto . inet_service";
  const tuple6 = "ipv6_addr . inet_proto . inet_service";
  return [
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    `  set deny4 { type ipv4_addr; flags interval; auto-merge;${elements(deny(4))} }`,
    `  set deny6 { type ipv6_addr; flags interval; auto-merge;${elements(deny(6))} }`,
    `  set dns4 { type ${tuple}; flags interval, timeout; }`,
    `  set dns6 { type ${tuple6}; flags interval, timeout; }`,
    `  set blocked4 { type ${tuple}; flags dynamic; size 4096; }`,
    `  set blocked6 { type ${tuple6}; flags dynamic; size 4096; }`,
    "  set blockedip4 { type ipv4_addr . inet_proto; flags dynamic; size 1024; }",
    "  set blockedip6 { type ipv6_addr . inet_proto; flags dynamic; size 1024; }",
    "  chain output {",
    "    type filter hook output priority filter; policy drop;",
    "    ct state established,related accept",
    `    oif lo ip daddr ${DNS_STUB.address} meta l4proto { tcp, udp } th dport ${DNS_STUB.port} accept comment "the DNS service"`,
    `    oif lo meta l4proto { tcp, udp } th dport ${DNS_STUB.port} goto deny`,
    '    oif lo accept comment "the sandbox\'s own loopback"',
    "    ip6 daddr { fe80::/10, ff02::/16 } icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, mld-listener-report, mld2-listener-report } accept",
    ...explicit,
    "    ip daddr @deny4 goto deny",
    "    ip6 daddr @deny6 goto deny",
    "    ip daddr . meta l4proto . th dport @dns4 accept",
    "    ip6 daddr . meta l4proto . th dport @dns6 accept",
    "    goto deny",
    "  }",
    "  chain deny {",
    "    meta l4proto { tcp, udp } add @blocked4 { ip daddr . meta l4proto . th dport }",
    "    meta l4proto { tcp, udp } add @blocked6 { ip6 daddr . meta l4proto . th dport }",
    "    meta l4proto != { tcp, udp } add @blockedip4 { ip daddr . meta l4proto }",
    "    meta l4proto != { tcp, udp } add @blockedip6 { ip6 daddr . meta l4proto }",
    "    meta l4proto tcp reject with tcp reset",
    "    reject with icmpx admin-prohibited",
    "  }",
    "}",
    "",
  ].join("\n");
}

export interface DnsGrant {
  address: Address;
  ports: PortRange | null;
  /** Seconds the element stays in the set. */
  timeout: number;
}

/**
 * Adds (or refreshes) DNS-derived allowances. `add` alone would keep an
 * existing element's old timeout, so each element is added, deleted and
 * added again in one atomic transaction.
 */
export function grantScript(grants: readonly DnsGrant[]): string {
  const lines: string[] = [];
  for (const g of grants) {
    const set = g.address.family === 4 ? "dns4" : "dns6";
    const range = g.ports ? `${g.ports.low}-${g.ports.high}` : "1-65535";
    for (const proto of ["tcp", "udp"]) {
      const key = `${formatAddress(g.address)} . ${proto} . ${range}`;
      lines.push(
        `add element inet ${NFT_TABLE} ${set} { ${key} timeout ${g.timeout}s }`,
        `delete element inet ${NFT_TABLE} ${set} { ${key} }`,
        `add element inet ${NFT_TABLE} ${set} { ${key} timeout ${g.timeout}s }`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
