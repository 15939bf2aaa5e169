import type { MountStep, Plan } from "./_types.js";

function describeMount(step: MountStep): [string, string, string] {
  switch (step.type) {
    case "bind":
      return [step.target, step.readOnly ? "read-only" : "writable", step.source];
    case "tmpfs":
      return [
        step.target,
        "tmpfs",
        `mode ${step.mode.toString(8)}${step.sizeBytes ? `, ${step.sizeBytes} bytes` : ""}`,
      ];
    case "proc":
      return [step.target, "proc", "fresh procfs"];
    case "dev":
      return [step.target, "dev", "minimal: null zero full random urandom tty pts shm"];
    case "overlay":
      return [step.target, "overlay", `${step.lower.join(":")} (writes discarded)`];
    case "mkdir":
      return [step.target, "mkdir", `mode ${step.mode.toString(8)}`];
    case "symlink":
      return [step.target, "symlink", `-> ${step.linkTo}`];
    case "file":
      return [step.target, "file", `${step.content.length} bytes, read-only`];
    case "remount-ro":
      return [
        step.target,
        "read-only",
        step.recursive === false ? "(remount, this mount only)" : "(remount, recursive)",
      ];
    case "hide":
      return [step.target, "hidden", "empty, read-only (if it exists)"];
  }
}

/** Shows a path readably: control characters (newlines in paths) escaped. */
function show(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  return /[\x00-\x1f\x7f]/.test(text) ? JSON.stringify(text) : text;
}

/** A human-readable rendering of a plan, for --dry-run and explain. */
export function formatPlan(plan: Plan): string {
  const ns = Object.entries(plan.namespaces)
    .filter(([, on]) => on)
    .map(([name]) => name);
  const net =
    plan.network.mode === "none"
      ? `none (loopback ${plan.network.loopback ? "up" : "down"})`
      : plan.network.mode === "host"
        ? "host (not isolated)"
        : `pasta, ${plan.network.rules.length} rule(s)`;
  const rows = plan.mounts.map(describeMount).map((r) => r.map(show) as [string, string, string]);
  const w0 = Math.max(4, ...rows.map((r) => r[0].length));
  const w1 = Math.max(4, ...rows.map((r) => r[1].length));
  const lines = [
    `namespaces: ${ns.join(", ")}`,
    `identity:   uid ${plan.identity.uid}, gid ${plan.identity.gid}`,
    `hostname:   ${plan.hostname ?? "(host's)"}`,
    `network:    ${net}`,
    `command:    ${plan.process.argv.map(show).join(" ")}`,
    `cwd:        ${show(plan.process.cwd)}`,
    plan.process.timeout
      ? `timeout:    ${plan.process.timeout.afterMs} ms, then SIGKILL after ${plan.process.timeout.graceMs} ms`
      : "timeout:    none",
    "",
    `${"PATH".padEnd(w0)}  ${"KIND".padEnd(w1)}  SOURCE`,
    ...rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`),
  ];
  return `${lines.join("\n")}\n`;
}
