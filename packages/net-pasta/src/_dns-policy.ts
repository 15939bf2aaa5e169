/**
 * What the filtering DNS service may answer. Pure: records in, records
 * and firewall grants out.
 */
import type { DnsGrant } from "./_firewall.js";
import { type Address, formatAddress, parseAddress, specialRange } from "./_ip.js";
import { explicitlyAllowed, nameRules, normalizeName, type Rule } from "./_rules.js";

/** Query types forwarded upstream for allowed names; others get an empty answer. */
export const FORWARDED_TYPES = ["A", "AAAA", "CNAME"] as const;

/** A resource record as the service sees it (dns-packet's shape, narrowed). */
export interface DnsRecord {
  name: string;
  type: string;
  ttl?: number;
  class?: string;
  data?: unknown;
}

export interface DroppedAnswer {
  name: string;
  address: string;
  reason: string;
}

export interface FilteredAnswer {
  /** The records to return: the CNAME chain from the query name and its addresses. */
  answers: DnsRecord[];
  grants: DnsGrant[];
  dropped: DroppedAnswer[];
  /** Address -> the names it was resolved for (the report names blocked addresses). */
  names: [string, string][];
}

/** Seconds an address stays allowed at least, whatever the TTL (programs cache answers). */
export const MIN_GRANT_SECONDS = 60;
/** At most: one day. */
export const MAX_GRANT_SECONDS = 86_400;

/**
 * Keeps the answer records that belong to the chain starting at `qname`
 * (CNAMEs followed in order), drops addresses in always-denied ranges or
 * of the host unless a rule names them explicitly, and turns the rest into
 * firewall grants with the ports of the rules that allowed `qname`.
 */
export function filterAnswer(
  qname: string,
  records: readonly DnsRecord[],
  rules: readonly Rule[],
  hostAddresses: readonly Address[],
): FilteredAnswer {
  const allowedBy = nameRules(rules, qname);
  const chain = new Set([qname]);
  const out: FilteredAnswer = { answers: [], grants: [], dropped: [], names: [] };
  // CNAMEs may come in any order; follow them until the chain stops growing.
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of records) {
      const name = normalizeName(String(r.name));
      const target = typeof r.data === "string" ? normalizeName(r.data) : null;
      if (r.type === "CNAME" && name && chain.has(name) && target && !chain.has(target)) {
        chain.add(target);
        grew = true;
      }
    }
  }
  for (const r of records) {
    const name = normalizeName(String(r.name));
    if (!name || !chain.has(name)) continue; // out of bailiwick: never passed on
    if (r.type === "CNAME") {
      out.answers.push(r);
      continue;
    }
    if (r.type !== "A" && r.type !== "AAAA") continue;
    const addr = typeof r.data === "string" ? parseAddress(r.data) : null;
    if (!addr || (r.type === "A") !== (addr.family === 4)) continue;
    const text = formatAddress(addr);
    const own = hostAddresses.some((h) => h.family === addr.family && h.value === addr.value);
    const special = specialRange(addr) ?? (own ? "an address of this host" : null);
    out.names.push([text, qname]);
    if (special && !explicitlyAllowed(rules, addr)) {
      out.dropped.push({ name: qname, address: text, reason: special });
      continue;
    }
    const ttl = Math.max(0, Math.floor(Number(r.ttl ?? 0)));
    const timeout = Math.min(MAX_GRANT_SECONDS, Math.max(MIN_GRANT_SECONDS, ttl) + 30);
    out.answers.push({ ...r, ttl: Math.min(ttl, timeout - 30) });
    for (const rule of allowedBy) out.grants.push({ address: addr, ports: rule.ports, timeout });
  }
  return out;
}
