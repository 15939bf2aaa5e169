import { describe, expect, it } from "vitest";
import * as api from "./index.js";
import {
  type Address,
  filterAnswer,
  firewallScript,
  formatAddress,
  grantScript,
  networkPlan,
  parseAddress,
  parseRule,
  parseRules,
  specialRange,
} from "./index.js";

const addr = (t: string) => parseAddress(t) as Address;

describe("@ms/net-pasta", () => {
  it("exports exactly its public door", () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        "ALWAYS_DENIED",
        "DNS_STUB",
        "FORWARDED_TYPES",
        "MAX_GRANT_SECONDS",
        "MIN_GRANT_SECONDS",
        "NFT_TABLE",
        "PASTA_RESOLV_CONF",
        "explicitlyAllowed",
        "filterAnswer",
        "firewallScript",
        "formatAddress",
        "formatPrefix",
        "grantScript",
        "nameRules",
        "networkPlan",
        "normalizeName",
        "parseAddress",
        "parsePrefix",
        "parseRule",
        "parseRules",
        "prefixContains",
        "ruleMatchesName",
        "rulesFromPlan",
        "specialRange",
      ].sort(),
    );
  });
});

describe("addresses", () => {
  it("parses and formats IPv4 and IPv6 canonically", () => {
    expect(formatAddress(addr("203.0.113.10"))).toBe("203.0.113.10");
    expect(formatAddress(addr("2001:DB8:0:0:0:0:0:1"))).toBe("2001:db8::1");
    expect(formatAddress(addr("::ffff:10.0.0.1"))).toBe("::ffff:a00:1");
    expect(formatAddress(addr("::"))).toBe("::");
    expect(formatAddress(addr("1:0:0:2:0:0:0:3"))).toBe("1:0:0:2::3");
    for (const bad of ["256.1.1.1", "1.2.3", "01.2.3.4", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9"])
      expect(parseAddress(bad), bad).toBeNull();
  });

  it("classifies the always-denied ranges", () => {
    for (const t of [
      "127.0.0.1",
      "10.77.0.5",
      "172.16.3.4",
      "192.168.1.1",
      "100.64.0.1",
      "169.254.169.254",
      "224.0.0.251",
      "255.255.255.255",
      "0.0.0.0",
      "::1",
      "fd00::1",
      "fe80::1",
      "ff02::1",
      "64:ff9b::a00:1",
      "::ffff:127.0.0.1",
    ])
      expect(specialRange(addr(t)), t).not.toBeNull();
    for (const t of ["203.0.113.10", "198.51.100.53", "8.8.8.8", "2001:db8:1::10", "2606:4700::1"])
      expect(specialRange(addr(t)), t).toBeNull();
  });
});

describe("rules", () => {
  it("accepts every rule form and canonicalises it", () => {
    const texts = [
      ["203.0.113.10", "203.0.113.10", "address"],
      ["2001:DB8::1", "2001:db8::1", "address"],
      ["203.0.113.0/24", "203.0.113.0/24", "prefix"],
      ["2001:db8::/32", "2001:db8::/32", "prefix"],
      ["Example.COM.", "example.com", "domain"],
      ["*.example.com", "*.example.com", "wildcard"],
      ["example.com:443", "example.com:443", "domain"],
      ["example.com:8000-8100", "example.com:8000-8100", "domain"],
      ["203.0.113.10:80", "203.0.113.10:80", "address"],
      ["[2001:db8::1]:443", "[2001:db8::1]:443", "address"],
      ["[2001:db8::/32]:443", "[2001:db8::/32]:443", "prefix"],
      ["*.wild.test:1-65535", "*.wild.test:1-65535", "wildcard"],
      ["localhost", "localhost", "domain"],
    ] as const;
    for (const [input, text, kind] of texts) {
      const rule = parseRule(input);
      expect(typeof rule === "string" ? rule : { text: rule.text, kind: rule.kind }, input).toEqual(
        {
          text,
          kind,
        },
      );
    }
  });

  it("rejects anything else, naming file, line and text", () => {
    for (const bad of [
      "999.1.1.1",
      "10.0.0.1/8",
      "10.0.0.0/33",
      "example.com:0",
      "example.com:70000",
      "example.com:90-80",
      "ex ample.com",
      "a.*.com",
      "*example.com",
      "[203.0.113.1]:80",
      "2001:db8::1:80:x",
      "-bad-.com",
      "http://example.com",
    ])
      expect(typeof parseRule(bad), bad).toBe("string");
    expect(() =>
      parseRules("# comment\n\nallowed.test  # trailing\nbad rule\n", "rules.txt"),
    ).toThrow(/^rules\.txt:4: .*"bad rule"/);
    try {
      parseRules("999.1.1.1", "f");
    } catch (error) {
      expect((error as api.Rule & { code: string }).code).toBe("ERR_MS_BAD_RULE");
    }
    expect(parseRules("# only comments\n\n   \n", "f")).toEqual([]);
  });

  it("matches exact names and subdomains of wildcards only", () => {
    const rules = parseRules("allowed.test\n*.wild.test\n", "f");
    expect(api.nameRules(rules, "allowed.test")).toHaveLength(1);
    expect(api.nameRules(rules, "x.allowed.test")).toHaveLength(0);
    expect(api.nameRules(rules, "a.b.wild.test")).toHaveLength(1);
    expect(api.nameRules(rules, "wild.test")).toHaveLength(0);
    expect(api.nameRules(rules, "evilwild.test")).toHaveLength(0);
  });
});

describe("network plan", () => {
  it("pasta mode: own namespace, rules as text, resolv.conf naming the DNS service, a hook", () => {
    const net = networkPlan({ rules: parseRules("allowed.test:443\n10.0.0.0/8", "f") });
    expect(net.namespace).toBe(true);
    expect(net.network).toEqual({ mode: "pasta", rules: ["allowed.test:443", "10.0.0.0/8"] });
    expect(net.mounts).toEqual([
      expect.objectContaining({ type: "file", target: "/etc/resolv.conf" }),
    ]);
    expect((net.mounts[0] as { content: string }).content).toMatch(/^nameserver 127\.0\.0\.1$/m);
    expect(net.needsHook).toBe(true);
    expect(networkPlan("loopback").needsHook).toBe(false);
  });
});

describe("firewall", () => {
  it("is default-deny with explicit rules before the always-denied sets", () => {
    const script = firewallScript({
      rules: parseRules("10.77.0.5:80\n[2001:db8::/32]:443\nallowed.test\n", "f"),
      hostAddresses: [addr("198.51.100.2")],
    });
    expect(script).toMatch(/policy drop;/);
    const explicit = script.indexOf(
      "ip daddr 10.77.0.5 meta l4proto { tcp, udp } th dport 80 accept",
    );
    const deny = script.indexOf("ip daddr @deny4 goto deny");
    expect(explicit).toBeGreaterThan(0);
    expect(deny).toBeGreaterThan(explicit);
    expect(script).toMatch(
      /ip6 daddr 2001:db8::\/32 meta l4proto \{ tcp, udp \} th dport 443 accept/,
    );
    expect(script).toMatch(/169\.254\.0\.0\/16/);
    expect(script).toMatch(/198\.51\.100\.2 \}/);
    expect(script).toMatch(/reject with tcp reset/);
    // Only 127.0.0.1:53 of the loopback reaches the host (pasta's mapping).
    expect(script).toMatch(
      /oif lo ip daddr 127\.0\.0\.1 meta l4proto \{ tcp, udp \} th dport 53 accept/,
    );
    expect(script).toMatch(/oif lo meta l4proto \{ tcp, udp \} th dport 53 goto deny/);
  });

  it("grants refresh the timeout atomically", () => {
    const g = grantScript([
      { address: addr("203.0.113.10"), ports: { low: 443, high: 443 }, timeout: 90 },
    ]);
    expect(g).toContain(
      "add element inet mini_sandbox dns4 { 203.0.113.10 . tcp . 443-443 timeout 90s }",
    );
    expect(g).toContain("delete element inet mini_sandbox dns4 { 203.0.113.10 . udp . 443-443 }");
  });
});

describe("DNS answers", () => {
  const rules = parseRules(
    "cname.test\nrebind.test\nprivate.test\n10.77.0.5\nallowed.test:443\n",
    "f",
  );

  it("follows CNAMEs from the query name and grants the final addresses", () => {
    const out = filterAnswer(
      "cname.test",
      [
        { name: "allowed.test", type: "A", ttl: 1, data: "203.0.113.10" },
        { name: "cname.test", type: "CNAME", ttl: 1, data: "allowed.test" },
        { name: "evil.test", type: "A", ttl: 1, data: "203.0.113.12" },
      ],
      rules,
      [],
    );
    expect(out.answers.map((r) => r.type)).toEqual(["A", "CNAME"]);
    expect(out.grants.map((g) => formatAddress(g.address))).toEqual(["203.0.113.10"]);
    expect(out.grants[0]?.timeout).toBeGreaterThanOrEqual(60);
  });

  it("drops loopback, private and host answers unless the address is allowed explicitly", () => {
    expect(
      filterAnswer(
        "rebind.test",
        [{ name: "rebind.test", type: "A", ttl: 1, data: "127.0.0.1" }],
        rules,
        [],
      ).dropped,
    ).toEqual([{ name: "rebind.test", address: "127.0.0.1", reason: "loopback" }]);
    const own = filterAnswer(
      "rebind.test",
      [{ name: "rebind.test", type: "A", ttl: 1, data: "203.0.113.77" }],
      rules,
      [addr("203.0.113.77")],
    );
    expect(own.grants).toEqual([]);
    const explicit = filterAnswer(
      "private.test",
      [{ name: "private.test", type: "A", ttl: 1, data: "10.77.0.5" }],
      rules,
      [],
    );
    expect(explicit.dropped).toEqual([]);
    expect(explicit.answers).toHaveLength(1);
  });

  it("grants carry the ports of the rule that allowed the name", () => {
    const out = filterAnswer(
      "allowed.test",
      [{ name: "allowed.test", type: "A", ttl: 300, data: "203.0.113.10" }],
      rules,
      [],
    );
    expect(out.grants).toEqual([
      { address: addr("203.0.113.10"), ports: { low: 443, high: 443 }, timeout: 330 },
    ]);
  });
});
