import type { MountStep, Plan } from "./_types.js";
import { validatePlan } from "./_validate.js";

/**
 * The wire form the native executor reads: a header, then ordered
 * operations, each a name followed by its arguments, every token ended by a
 * NUL byte. Every operation has a fixed number of arguments except `overlay`
 * and `exec`, which carry a count. Dull on purpose: no parser in C beyond
 * splitting on NUL.
 */
export const WIRE_MAGIC = "mini-sandbox-plan";

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

function mountOp(step: MountStep): string[] {
  switch (step.type) {
    case "bind":
      return ["bind", step.source, step.target, step.readOnly ? "ro" : "rw"];
    case "tmpfs":
      return ["tmpfs", step.target, octal(step.mode), String(step.sizeBytes)];
    case "proc":
      return ["proc", step.target];
    case "dev":
      return ["dev", step.target];
    case "overlay":
      return [
        "overlay",
        step.target,
        step.upper,
        step.work,
        String(step.lower.length),
        ...step.lower,
      ];
    case "mkdir":
      return ["mkdir", step.target, octal(step.mode)];
    case "symlink":
      return ["symlink", step.linkTo, step.target];
    case "file":
      return ["file", step.target, octal(step.mode), step.content];
    case "remount-ro":
      return ["remount-ro", step.target, step.recursive === false ? "top" : "recursive"];
    case "hide":
      return ["hide", step.target];
  }
}

/** Validates a plan and encodes it for the executor. */
export function encodePlan(plan: Plan): string {
  validatePlan(plan);
  const ns = plan.namespaces;
  const flags = ["user", "mount", "pid"];
  for (const key of ["ipc", "uts", "net", "cgroup"] as const) if (ns[key]) flags.push(key);

  const tokens: string[] = [WIRE_MAGIC, String(plan.version)];
  tokens.push("unshare", flags.join(","));
  tokens.push("uid", String(plan.identity.uid), "gid", String(plan.identity.gid));
  if (plan.hostname !== null) tokens.push("hostname", plan.hostname);
  if (plan.network.mode !== "host") {
    const up = plan.network.mode === "pasta" || plan.network.loopback;
    tokens.push("loopback", up ? "up" : "down");
  }
  for (const step of plan.mounts) tokens.push(...mountOp(step));
  const proc = plan.process;
  tokens.push("chdir", proc.cwd);
  for (const [key, value] of Object.entries(proc.env)) tokens.push("env", `${key}=${value}`);
  for (const r of proc.rlimits)
    tokens.push(
      "rlimit",
      r.name,
      r.soft === null ? "inf" : String(r.soft),
      r.hard === null ? "inf" : String(r.hard),
    );
  if (proc.timeout !== null)
    tokens.push("timeout", String(proc.timeout.afterMs), String(proc.timeout.graceMs));
  tokens.push("interrupt", proc.onInterrupt, "grace", String(proc.graceMs));
  if (plan.waitForRelease) tokens.push("wait-release");
  tokens.push("exec", String(proc.argv.length), ...proc.argv);
  return `${tokens.join("\0")}\0`;
}

/**
 * The executor numbers every wire operation; this maps such a step number
 * back to the index in `plan.mounts` (null when the step is not a mount).
 */
export function mountIndexOfWireStep(plan: Plan, step: number): number | null {
  const before = 3 + (plan.hostname !== null ? 1 : 0) + (plan.network.mode !== "host" ? 1 : 0);
  const index = step - before;
  return index >= 0 && index < plan.mounts.length ? index : null;
}
