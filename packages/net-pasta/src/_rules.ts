/**
 * The allow rules of pasta mode, one per line:
 *
 *   203.0.113.10            an IPv4 address
 *   2001:db8::1             an IPv6 address
 *   203.0.113.0/24          a CIDR range (v4 or v6: 2001:db8::/32)
 *   example.com             exactly this name
 *   *.example.com           any subdomain of example.com (not example.com itself)
 *   example.com:443         any of the above with a port ...
 *   example.com:8000-8100   ... or a port range; IPv6 with a port: [2001:db8::1]:443
 *
 * `#` starts a comment; blank lines are ignored. Pure: no I/O.
 */
import { MsError } from "@ms/plan";
import {
  type Address,
  formatAddress,
  formatPrefix,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
} from "./_ip.js";

export interface PortRange {
  low: number;
  high: number;
}

interface RuleBase {
  /** Canonical text, e.g. `*.example.com:443` or `[2001:db8::1]:80`. */
  text: string;
  /** null: every port (TCP and UDP). */
  ports: PortRange | null;
}

export type Rule =
  | (RuleBase & { kind: "address" | "prefix"; prefix: Prefix })
  | (RuleBase & { kind: "domain"; name: string })
  | (RuleBase & { kind: "wildcard"; suffix: string });

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Lower-cased, without the trailing dot; null if it is not a DNS name. */
export function normalizeName(text: string): string | null {
  const name = text.toLowerCase().replace(/\.$/, "");
  if (name.length === 0 || name.length > 253) return null;
  const labels = name.split(".");
  if (!labels.every((l) => LABEL.test(l))) return null;
  // A last label of digits only is a mistyped address (999.1.1.1), not a name.
  if (/^\d+$/.test(labels[labels.length - 1] as string)) return null;
  return name;
}

function parsePorts(text: string): PortRange | string {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return `bad port ${JSON.stringify(text)} (a number 1-65535, or LOW-HIGH)`;
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  if (low < 1 || high > 65535 || low > 65535) return "ports must be between 1 and 65535";
  if (high < low) return `port range ${low}-${high} is reversed`;
  return { low, high };
}

function portSuffix(ports: PortRange | null): string {
  if (!ports) return "";
  return ports.low === ports.high ? `:${ports.low}` : `:${ports.low}-${ports.high}`;
}

/** Parses one rule; returns the rule or the reason it is not one. */
export function parseRule(input: string): Rule | string {
  const raw = input.trim();
  if (raw === "") return "empty rule";
  let host = raw;
  let portText: string | null = null;
  let bracketed = false;
  if (raw.startsWith("[")) {
    const close = raw.indexOf("]");
    if (close < 0) return "missing ']' after an IPv6 address";
    host = raw.slice(1, close);
    const rest = raw.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return "expected ':PORT' after ']'";
      portText = rest.slice(1);
    }
    bracketed = true;
  } else if ((raw.match(/:/g) ?? []).length === 1) {
    const colon = raw.indexOf(":");
    host = raw.slice(0, colon);
    portText = raw.slice(colon + 1);
  }
  let ports: PortRange | null = null;
  if (portText !== null) {
    const parsed = parsePorts(portText);
    if (typeof parsed === "string") return parsed;
    ports = parsed;
  }
  const suffix = portSuffix(ports);

  const prefix = parsePrefix(host);
  if (prefix && "error" in prefix) return prefix.error;
  if (prefix) {
    const text = prefix.family === 6 && ports ? `[${formatPrefix(prefix)}]` : formatPrefix(prefix);
    return { kind: "prefix", prefix, ports, text: `${text}${suffix}` };
  }
  const addr = parseAddress(host);
  if (addr) {
    if (addr.family === 4 && bracketed) return "brackets are only for IPv6 addresses";
    const full = addr.family === 4 ? 32 : 128;
    const text = addr.family === 6 && ports ? `[${formatAddress(addr)}]` : formatAddress(addr);
    return {
      kind: "address",
      prefix: { family: addr.family, value: addr.value, length: full },
      ports,
      text: `${text}${suffix}`,
    };
  }
  if (bracketed) return "not an IPv6 address inside [ ]";
  if (host.includes(":")) return "not an IPv6 address (use [ADDR]:PORT for a port)";
  if (host.startsWith("*.")) {
    const name = normalizeName(host.slice(2));
    if (!name) return "not a domain name after '*.'";
    return { kind: "wildcard", suffix: name, ports, text: `*.${name}${suffix}` };
  }
  if (host.includes("*")) return "'*' is only allowed as the first label: *.example.com";
  if (host.includes("/")) return "not a CIDR range";
  const name = normalizeName(host);
  if (!name) return "not an IP address, a CIDR range or a domain name";
  return { kind: "domain", name, ports, text: `${name}${suffix}` };
}

/**
 * Parses a rules file (or `--allow` values, with `source` "--allow").
 * Throws ERR_MS_BAD_RULE naming the source, the line and the text.
 */
export function parseRules(text: string, source: string): Rule[] {
  const rules: Rule[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const hash = line.indexOf("#");
    const body = (hash >= 0 ? line.slice(0, hash) : line).trim();
    if (body === "") continue;
    const rule = parseRule(body);
    if (typeof rule === "string")
      throw new MsError("ERR_MS_BAD_RULE", `${source}:${i + 1}: ${rule}: ${JSON.stringify(body)}`, {
        hint: "one rule per line: an IP address, a CIDR range, example.com or *.example.com, optionally with :PORT or :LOW-HIGH ([v6]:PORT)",
      });
    rules.push(rule);
  }
  return rules;
}

/** Parses the canonical rule texts a plan carries (they were validated when the plan was built). */
export function rulesFromPlan(texts: readonly string[]): Rule[] {
  return texts.map((t, i) => {
    const rule = parseRule(t);
    if (typeof rule === "string")
      throw new MsError("ERR_MS_BAD_RULE", `network rule ${i}: ${rule}: ${JSON.stringify(t)}`);
    return rule;
  });
}

/** Whether a domain or wildcard rule covers `name` (normalized). */
export function ruleMatchesName(rule: Rule, name: string): boolean {
  if (rule.kind === "domain") return rule.name === name;
  if (rule.kind === "wildcard") return name.endsWith(`.${rule.suffix}`);
  return false;
}

/** The name rules that allow `name`; empty means the name is denied. */
export function nameRules(rules: readonly Rule[], name: string): Rule[] {
  return rules.filter((r) => ruleMatchesName(r, name));
}

/** Whether an address or prefix rule names `addr` explicitly (on any port). */
export function explicitlyAllowed(rules: readonly Rule[], addr: Address): boolean {
  return rules.some(
    (r) => (r.kind === "address" || r.kind === "prefix") && prefixContains(r.prefix, addr),
  );
}
