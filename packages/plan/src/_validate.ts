import { MsError } from "./_errors.js";
import { type MountStep, PLAN_VERSION, type Plan, RLIMIT_NAMES } from "./_types.js";

const MAX_ID = 0xfffffffe;
const HOSTNAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function fail(where: string, problem: string): never {
  throw new MsError("ERR_MS_INVALID_PLAN", `plan.${where}: ${problem}`, {
    hint: "The plan is built by mini-sandbox's packages; if you built it yourself, fix the field named.",
  });
}

function checkString(where: string, value: unknown): string {
  if (typeof value !== "string") fail(where, "must be a string");
  if (value.includes("\0")) fail(where, "must not contain a NUL byte");
  return value;
}

/** An absolute, normalised path: no empty, `.` or `..` components. */
function checkPath(where: string, value: unknown): string {
  const path = checkString(where, value);
  if (!path.startsWith("/")) fail(where, `must be an absolute path, got ${JSON.stringify(path)}`);
  if (path !== "/") {
    const parts = path.slice(1).split("/");
    if (parts.some((p) => p === "" || p === "." || p === ".."))
      fail(where, `must be a normalised path, got ${JSON.stringify(path)}`);
  }
  return path;
}

function checkInt(where: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    fail(where, `must be an integer from ${min} to ${max}`);
  return value;
}

function checkBool(where: string, value: unknown): boolean {
  if (typeof value !== "boolean") fail(where, "must be true or false");
  return value;
}

function checkMount(where: string, step: MountStep): void {
  if (typeof step !== "object" || step === null) fail(where, "must be an object");
  checkPath(`${where}.target`, step.target);
  switch (step.type) {
    case "bind":
      checkPath(`${where}.source`, step.source);
      checkBool(`${where}.readOnly`, step.readOnly);
      return;
    case "tmpfs":
      checkInt(`${where}.mode`, step.mode, 0, 0o7777);
      checkInt(`${where}.sizeBytes`, step.sizeBytes, 0, Number.MAX_SAFE_INTEGER);
      return;
    case "proc":
    case "dev":
    case "hide":
      return;
    case "remount-ro":
      if (step.recursive !== undefined) checkBool(`${where}.recursive`, step.recursive);
      return;
    case "overlay":
      if (!Array.isArray(step.lower) || step.lower.length === 0)
        fail(`${where}.lower`, "must list at least one layer");
      for (const [i, l] of step.lower.entries()) checkPath(`${where}.lower[${i}]`, l);
      checkPath(`${where}.upper`, step.upper);
      checkPath(`${where}.work`, step.work);
      return;
    case "mkdir":
      checkInt(`${where}.mode`, step.mode, 0, 0o7777);
      return;
    case "symlink":
      checkString(`${where}.linkTo`, step.linkTo);
      if (step.linkTo === "") fail(`${where}.linkTo`, "must not be empty");
      return;
    case "file":
      checkString(`${where}.content`, step.content);
      checkInt(`${where}.mode`, step.mode, 0, 0o7777);
      return;
    default:
      fail(
        `${where}.type`,
        `unknown mount step ${JSON.stringify((step as { type: unknown }).type)}`,
      );
  }
}

/**
 * Checks every field of a plan and throws `ERR_MS_INVALID_PLAN` naming the
 * first bad one. The executor checks the wire form again before it acts.
 */
export function validatePlan(plan: Plan): Plan {
  if (typeof plan !== "object" || plan === null) fail("", "must be an object");
  if (plan.version !== PLAN_VERSION) fail("version", `must be ${PLAN_VERSION}`);

  const ns = plan.namespaces;
  if (typeof ns !== "object" || ns === null) fail("namespaces", "must be an object");
  if (ns.user !== true || ns.mount !== true || ns.pid !== true)
    fail("namespaces", "user, mount and pid namespaces are always required");
  for (const key of ["ipc", "uts", "net", "cgroup"] as const)
    checkBool(`namespaces.${key}`, ns[key]);

  checkInt("identity.uid", plan.identity?.uid, 0, MAX_ID);
  checkInt("identity.gid", plan.identity?.gid, 0, MAX_ID);

  if (plan.hostname !== null) {
    const name = checkString("hostname", plan.hostname);
    if (!ns.uts) fail("hostname", "needs the uts namespace");
    if (name.length > 64 || !HOSTNAME.test(name))
      fail("hostname", `is not a valid hostname: ${JSON.stringify(name)}`);
  }

  const net = plan.network;
  if (net?.mode === "none") {
    if (!ns.net) fail("network", "mode none needs the net namespace");
    checkBool("network.loopback", net.loopback);
  } else if (net?.mode === "host") {
    if (ns.net) fail("network", "mode host must not create a net namespace");
  } else if (net?.mode === "pasta") {
    if (!ns.net) fail("network", "mode pasta needs the net namespace");
    if (!Array.isArray(net.rules)) fail("network.rules", "must be a list");
    for (const [i, r] of net.rules.entries()) checkString(`network.rules[${i}]`, r);
  } else {
    fail("network.mode", "must be none, host or pasta");
  }

  if (!Array.isArray(plan.mounts)) fail("mounts", "must be a list");
  for (const [i, step] of plan.mounts.entries()) checkMount(`mounts[${i}]`, step);

  const proc = plan.process;
  if (typeof proc !== "object" || proc === null) fail("process", "must be an object");
  if (!Array.isArray(proc.argv) || proc.argv.length === 0)
    fail("process.argv", "must name a command");
  for (const [i, a] of proc.argv.entries()) checkString(`process.argv[${i}]`, a);
  if (proc.argv[0] === "") fail("process.argv[0]", "must not be empty");
  checkPath("process.cwd", proc.cwd);
  if (typeof proc.env !== "object" || proc.env === null) fail("process.env", "must be an object");
  for (const [key, value] of Object.entries(proc.env)) {
    checkString(`process.env[${JSON.stringify(key)}]`, value);
    if (key === "" || key.includes("=") || key.includes("\0"))
      fail("process.env", `bad variable name ${JSON.stringify(key)}`);
  }
  if (!Array.isArray(proc.rlimits)) fail("process.rlimits", "must be a list");
  proc.rlimits.forEach((r, i) => {
    if (!RLIMIT_NAMES.includes(r.name))
      fail(`process.rlimits[${i}].name`, `must be one of ${RLIMIT_NAMES.join(", ")}`);
    if (r.soft !== null) checkInt(`process.rlimits[${i}].soft`, r.soft, 0, Number.MAX_SAFE_INTEGER);
    if (r.hard !== null) checkInt(`process.rlimits[${i}].hard`, r.hard, 0, Number.MAX_SAFE_INTEGER);
    if (r.hard !== null && (r.soft === null || r.soft > r.hard))
      fail(`process.rlimits[${i}]`, "soft limit must not exceed the hard limit");
  });
  if (proc.timeout !== null) {
    checkInt("process.timeout.afterMs", proc.timeout?.afterMs, 1, 2 ** 31 - 1);
    checkInt("process.timeout.graceMs", proc.timeout.graceMs, 0, 2 ** 31 - 1);
  }
  if (proc.onInterrupt !== "forward" && proc.onInterrupt !== "terminate")
    fail("process.onInterrupt", "must be forward or terminate");
  checkInt("process.graceMs", proc.graceMs, 0, 2 ** 31 - 1);
  checkBool("waitForRelease", plan.waitForRelease);
  return plan;
}
