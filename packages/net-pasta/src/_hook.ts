/**
 * The pasta-mode run hook: while the sandbox waits for release, it opens
 * the sandbox's namespaces, starts the filtering DNS service, loads the
 * firewall and attaches pasta, in that order (the firewall is in place
 * before the interface exists). At the end it reads back what was blocked,
 * stops pasta and the DNS service, and removes everything it created.
 */
import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import { MsError, type Plan } from "@ms/plan";
import type { DroppedAnswer } from "./_dns-policy.js";
import { type DeniedName, type DnsFilter, startDnsFilter } from "./_dns-server.js";
import { firewallScript, grantScript, NFT_TABLE } from "./_firewall.js";
import { type NamespaceFds, nftIn, type PastaProcess, startPasta } from "./_pasta.js";
import { type Rule, rulesFromPlan } from "./_rules.js";
import type { NetHostFacts, PastaTools } from "./probe.js";

export interface BlockedAttempt {
  destination: string;
  /** null for protocols without ports (ICMP). */
  port: number | null;
  protocol: string;
  /** Names our DNS service resolved to this address, when any. */
  names: string[];
}

export interface NetworkReport {
  mode: "pasta";
  rules: string[];
  blocked: BlockedAttempt[];
  deniedNames: DeniedName[];
  /** Answers for allowed names dropped because they pointed at a denied range. */
  droppedAnswers: DroppedAnswer[];
  /** Set when the report could not be read completely. */
  error?: string;
}

export interface PastaHookOptions {
  tools: PastaTools;
  host: NetHostFacts;
  /** Progress lines for --verbose. */
  log?: (line: string) => void;
}

/** The hook shape of @ms/namespaces/runtime (structural: packages do not import each other). */
export interface PastaHook {
  name: string;
  attach(context: { pid: number; plan: Plan }): Promise<{ detach(): Promise<void> }>;
  /** What happened on the network; complete after detach. */
  report(): NetworkReport | null;
}

function openNamespaces(pid: number): NamespaceFds {
  let net = -1;
  try {
    net = openSync(`/proc/${pid}/ns/net`, "r");
    const user = openSync(`/proc/${pid}/ns/user`, "r");
    // Never configure our own namespaces (the sandbox died, its pid was reused).
    if (
      fstatSync(net).ino === statSync("/proc/self/ns/net").ino ||
      fstatSync(user).ino === statSync("/proc/self/ns/user").ino
    ) {
      closeSync(user);
      throw new Error("the sandbox's pid no longer refers to the sandbox");
    }
    return { net, user };
  } catch (error) {
    if (net >= 0) closeSync(net);
    throw new MsError(
      "ERR_MS_SETUP_FAILED",
      `cannot open the sandbox's namespaces: ${(error as Error).message}`,
      { cause: error, hint: "the sandbox must still be waiting for release; rerun with --verbose" },
    );
  }
}

interface NftJson {
  nftables?: { set?: { name: string; elem?: unknown[] } }[];
}

function parseBlocked(json: string, names: Map<string, Set<string>>): BlockedAttempt[] {
  const out: BlockedAttempt[] = [];
  const data = JSON.parse(json) as NftJson;
  for (const item of data.nftables ?? []) {
    const set = item.set;
    if (!set?.name.startsWith("blocked")) continue;
    for (const raw of set.elem ?? []) {
      const value =
        typeof raw === "object" && raw !== null && "elem" in raw
          ? (raw as { elem: { val: unknown } }).elem.val
          : raw;
      const concat = (value as { concat?: unknown[] }).concat;
      if (!Array.isArray(concat)) continue;
      const [destination, protocol, port] = concat as [string, string, number | undefined];
      out.push({
        destination: String(destination),
        protocol: String(protocol),
        port: typeof port === "number" ? port : null,
        names: [...(names.get(String(destination)) ?? [])].sort(),
      });
    }
  }
  return out.sort((a, b) =>
    `${a.destination} ${a.protocol} ${a.port}`.localeCompare(
      `${b.destination} ${b.protocol} ${b.port}`,
    ),
  );
}

export function pastaHook(options: PastaHookOptions): PastaHook {
  const log = options.log ?? (() => {});
  let report: NetworkReport | null = null;
  return {
    name: "pasta",
    report: () => report,
    async attach({ pid, plan }) {
      if (plan.network.mode !== "pasta")
        throw new MsError("ERR_MS_INTERNAL", "the pasta hook needs a plan in pasta mode");
      const rules: Rule[] = rulesFromPlan(plan.network.rules);
      const t0 = performance.now();
      const ns = openNamespaces(pid);
      let dns: DnsFilter | null = null;
      let pasta: PastaProcess | null = null;
      const current: NetworkReport = {
        mode: "pasta",
        rules: plan.network.rules,
        blocked: [],
        deniedNames: [],
        droppedAnswers: [],
      };
      report = current;
      const finish = async () => {
        try {
          const json = await nftIn(options.tools, ns, ["-j", "list", "table", "inet", NFT_TABLE]);
          current.blocked = parseBlocked(json, dns?.names() ?? new Map());
        } catch (error) {
          current.error = `cannot read the blocked attempts: ${(error as Error).message}`;
        }
        current.deniedNames = dns?.denied() ?? [];
        current.droppedAnswers = dns?.dropped() ?? [];
        await pasta?.stop();
        await dns?.close();
        closeSync(ns.net);
        closeSync(ns.user);
      };
      try {
        let grants = Promise.resolve();
        dns = await startDnsFilter({
          rules,
          hostAddresses: options.host.hostAddresses,
          upstream: options.host.upstream,
          // One nft at a time, in order.
          grant: (g) => {
            const next = grants.then(() =>
              nftIn(options.tools, ns, ["-f", "-"], grantScript(g)).then(() => {}),
            );
            grants = next.catch(() => {});
            return next;
          },
        });
        log(
          `pasta mode: DNS service on 127.0.0.1:${dns.port} (upstream ${options.host.upstream ?? "none"})`,
        );
        // The firewall and pasta start side by side: nothing runs in the
        // sandbox before the release, which waits for both.
        const firewall = nftIn(
          options.tools,
          ns,
          ["-f", "-"],
          firewallScript({ rules, hostAddresses: options.host.hostAddresses }),
        ).then(
          () => log(`pasta mode: firewall loaded (+${(performance.now() - t0).toFixed(1)} ms)`),
          (error: Error) => {
            throw new MsError(
              "ERR_MS_SETUP_FAILED",
              `cannot load the firewall into the sandbox: ${error.message}`,
              {
                cause: error,
                hint: "the kernel needs nf_tables (modprobe nf_tables); run 'mini-sandbox doctor'",
              },
            );
          },
        );
        const started = startPasta(options.tools.pasta, ns, dns.port, process.getuid?.() === 0);
        const [fw, ps] = await Promise.allSettled([firewall, started]);
        if (ps.status === "fulfilled") pasta = ps.value;
        if (fw.status === "rejected") throw fw.reason;
        if (ps.status === "rejected") throw ps.reason;
        log(
          `pasta mode: pasta ${ps.value.pid} attached (+${(performance.now() - t0).toFixed(1)} ms)`,
        );
      } catch (error) {
        await finish().catch(() => {});
        report = null;
        throw error;
      }
      return { detach: finish };
    },
  };
}
