/**
 * The network flags' host side: -F FILE and --allow RULE select pasta mode;
 * the rules are read and parsed here (exit 125 naming file, line and text).
 * At run time the pasta runtime is loaded lazily, only in pasta mode.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type NetworkMode, type PastaNetwork, parseRules, type Rule } from "@ms/net-pasta";
import { MsError, type Plan } from "@ms/plan";
import { checkConflicts, type ParsedArgs } from "./_flags.js";

function list(value: unknown): string[] {
  return Array.isArray(value) ? (value as string[]) : typeof value === "string" ? [value] : [];
}

/** The network option from -n, -N, -F and --allow. */
export function networkOption(parsed: ParsedArgs, cwd: string): NetworkMode | PastaNetwork {
  checkConflicts(parsed, [
    ["rulesFile", "noLoopback"],
    ["rulesFile", "hostNetwork"],
    ["allow", "noLoopback"],
    ["allow", "hostNetwork"],
  ]);
  const files = list(parsed.flags.rulesFile);
  const allows = list(parsed.flags.allow);
  if (files.length === 0 && allows.length === 0)
    return parsed.flags.hostNetwork ? "host" : parsed.flags.noLoopback ? "none" : "loopback";
  const rules: Rule[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, file), "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new MsError(
        code === "ENOENT" ? "ERR_MS_PATH_NOT_FOUND" : "ERR_MS_USAGE",
        `-F: cannot read the rules file ${file}: ${code === "ENOENT" ? "it does not exist" : (code ?? String(error))}`,
        { hint: "name a readable file with one rule per line (see 'mini-sandbox --help')" },
      );
    }
    rules.push(...parseRules(text, file));
  }
  for (const allow of allows) rules.push(...parseRules(allow, "--allow"));
  // Duplicates are harmless but noisy in the plan.
  const seen = new Set<string>();
  return { rules: rules.filter((r) => !seen.has(r.text) && seen.add(r.text)) };
}

export interface NetworkRun {
  hooks: import("@ms/namespaces/runtime").RunHook[];
  /** The `network` field of the JSON report, once the run is over. */
  report(): unknown;
  /** The --verbose summary lines. */
  summary(): string[];
}

const NONE: NetworkRun = { hooks: [], report: () => undefined, summary: () => [] };

/**
 * In pasta mode: checks the helpers (exit 125 with the remedy before
 * anything is created) and builds the hook. Other modes load nothing.
 */
export async function networkRun(
  plan: Plan,
  ctx: { env: NodeJS.ProcessEnv; cwd: string; log: (line: string) => void },
): Promise<NetworkRun> {
  if (plan.network.mode !== "pasta") return NONE;
  const probe = await import("@ms/net-pasta/probe");
  const tools = probe.requirePastaTools(ctx.env, ctx.cwd);
  const host = probe.probeNetHost();
  const { pastaHook } = await import("@ms/net-pasta/runtime");
  const hook = pastaHook({ tools, host, log: ctx.log });
  return {
    hooks: [hook],
    report: () => hook.report() ?? undefined,
    summary: () => {
      const r = hook.report();
      if (!r) return [];
      const lines = [
        `network: pasta mode, ${r.rules.length} rule(s); ${r.blocked.length} blocked destination(s), ${r.deniedNames.length} denied name(s)`,
      ];
      for (const b of r.blocked.slice(0, 20))
        lines.push(
          `  blocked ${b.protocol} ${b.destination}${b.port === null ? "" : ` port ${b.port}`}${b.names.length ? ` (${b.names.join(", ")})` : ""}`,
        );
      for (const d of r.deniedNames.slice(0, 20))
        lines.push(`  denied name ${d.name} (${d.type}, ${d.count}x)`);
      for (const d of r.droppedAnswers.slice(0, 20))
        lines.push(`  dropped answer ${d.name} -> ${d.address}: ${d.reason}`);
      if (r.error) lines.push(`  ${r.error}`);
      return lines;
    },
  };
}
