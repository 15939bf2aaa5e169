import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namespaceSpec } from "@ms/namespaces";
import { type Check, checkUserNamespaceSettings, probeCaller } from "@ms/namespaces/probe";
import { runPlan } from "@ms/namespaces/runtime";
import { networkPlan } from "@ms/net-pasta";
import { checkPastaMode } from "@ms/net-pasta/probe";
import { MsError, PLAN_VERSION, type Plan } from "@ms/plan";

/** Actually create a sandbox (all namespaces, an overlay) and run `true` in it. */
async function trySandbox(): Promise<Check[]> {
  const caller = probeCaller();
  const spec = namespaceSpec({ caller, net: true, hostname: "localhost" });
  const base: Omit<Plan, "mounts"> = {
    version: PLAN_VERSION,
    ...spec,
    network: networkPlan("loopback").network,
    process: {
      argv: ["/bin/true"],
      cwd: "/",
      env: {},
      rlimits: [],
      timeout: null,
      onInterrupt: "forward",
      graceMs: 0,
    },
    waitForRelease: false,
  };
  const checks: Check[] = [];
  try {
    const mounts: Plan["mounts"] = [
      { type: "bind", source: "/", target: "/", readOnly: true },
      { type: "dev", target: "/dev" },
      { type: "proc", target: "/proc" },
    ];
    await runPlan({ ...base, mounts }, { stdio: "pipe" });
    checks.push({
      name: "namespaces",
      status: "ok",
      detail: "user, mount, pid, ipc, uts, net and cgroup namespaces work",
    });
  } catch (error) {
    const e = MsError.from(error);
    checks.push({
      name: "namespaces",
      status: "fail",
      detail: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
    });
    return checks;
  }
  let layers: string;
  try {
    layers = mkdtempSync(join(tmpdir(), "ms-doctor-"));
  } catch (error) {
    checks.push({
      name: "overlayfs in a user namespace",
      status: "fail",
      detail: `not checked: no writable temporary directory (${(error as NodeJS.ErrnoException).code ?? error})`,
      hint: "the default mode (-x) keeps overlay changes in a private directory under $TMPDIR (or /tmp): make it writable",
    });
    return checks;
  }
  try {
    const mounts: Plan["mounts"] = [
      { type: "bind", source: "/", target: "/", readOnly: true },
      { type: "dev", target: "/dev" },
      { type: "proc", target: "/proc" },
      { type: "bind", source: layers, target: "/mnt", readOnly: false },
      {
        type: "overlay",
        target: "/usr",
        lower: ["/usr"],
        upper: `${layers}/upper`,
        work: `${layers}/work`,
      },
    ];
    const { mkdirSync } = await import("node:fs");
    mkdirSync(`${layers}/upper`);
    mkdirSync(`${layers}/work`);
    await runPlan({ ...base, mounts }, { stdio: "pipe" });
    checks.push({
      name: "overlayfs in a user namespace",
      status: "ok",
      detail: "an overlay over /usr mounts",
    });
  } catch (error) {
    const e = MsError.from(error);
    checks.push({
      name: "overlayfs in a user namespace",
      status: "fail",
      detail: e.message,
      hint: "the default mode (-x) needs overlayfs in user namespaces (Linux 5.11 or newer)",
    });
  } finally {
    rmSync(layers, { recursive: true, force: true });
  }
  return checks;
}

/** `mini-sandbox doctor`: prints each check with a remedy; exit 0 when all pass. */
export async function doctor(write: (s: string) => void): Promise<number> {
  const checks = [...checkUserNamespaceSettings()];
  checks.push(...(await trySandbox()));
  checks.push(...checkPastaMode());
  let failed = 0;
  for (const c of checks) {
    const mark = c.status === "ok" ? "ok  " : c.status === "warn" ? "warn" : "FAIL";
    if (c.status === "fail") failed++;
    write(`${mark}  ${c.name}: ${c.detail}\n`);
    if (c.hint && c.status !== "ok") write(`      fix: ${c.hint}\n`);
  }
  write(
    failed
      ? `\n${failed} check(s) failed: mini-sandbox will refuse to run until they are fixed.\n`
      : "\nThis host can run mini-sandbox.\n",
  );
  return failed ? 1 : 0;
}
