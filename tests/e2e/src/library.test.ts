/**
 * The library path: a plan run from a running Node process, as a third
 * party frontend would (@ms/plan + @ms/namespaces only). Runs as the
 * suite's own user.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type RunHook, runPlan } from "@ms/namespaces/runtime";
import { MsError, type Plan } from "@ms/plan";
import { planFixture } from "@ms/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { sandboxRoot, sandboxWorks, testBase } from "./harness.js";

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function plan(argv: string[], mounts: Plan["mounts"] = []): Plan {
  dir = mkdtempSync(join(testBase(), "lib-"));
  const base = planFixture({
    argv,
    cwd: dir,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    mounts: [...sandboxRoot(dir), ...mounts],
  });
  return { ...base, process: { ...base.process, env: { PATH: "/usr/bin:/bin" }, graceMs: 1000 } };
}

(sandboxWorks() ? describe : describe.skip)("runPlan", () => {
  it("resolves with the command's status and output", async () => {
    const r = await runPlan(plan(["sh", "-c", "echo out; echo err >&2; exit 3"]), {
      stdio: "pipe",
    });
    expect(r).toMatchObject({
      exitCode: 3,
      signal: null,
      timedOut: false,
      stdout: "out\n",
      stderr: "err\n",
    });
    expect(r.events.map((e) => e.event)).toEqual(["child-pid", "started", "exit"]);
  });

  it("rejects with a structured MsError naming the step, syscall, path and errno", async () => {
    const p = plan(
      ["true"],
      [{ type: "bind", source: "/no/such/source", target: "/mnt/x", readOnly: true }],
    );
    const error = await runPlan(p, { stdio: "pipe" }).catch((e) => e);
    expect(error).toBeInstanceOf(MsError);
    expect(error.code).toBe("ERR_MS_SETUP_FAILED");
    expect(error.message).toMatch(/mount step 4: bind/);
    expect(error.details).toMatchObject({
      mountIndex: 4,
      op: "bind",
      syscall: "openat2",
      path: "/no/such/source",
      code: "ENOENT",
    });
    expect(error.hint).toMatch(/does not exist/);
  });

  it("applies rlimits", async () => {
    const p = plan(["sh", "-c", "ulimit -n"]);
    p.process.rlimits = [{ name: "nofile", soft: 64, hard: 64 }];
    expect((await runPlan(p, { stdio: "pipe" })).stdout).toBe("64\n");
  });

  it("runs hooks after the namespaces exist and before the command, and always detaches them", async () => {
    const calls: string[] = [];
    const hook: RunHook = {
      name: "probe",
      async attach({ pid }) {
        calls.push(existsSync(`/proc/${pid}/ns/net`) ? "attach:ns" : "attach:no-ns");
        return { detach: async () => void calls.push("detach") };
      },
    };
    const r = await runPlan(plan(["sh", "-c", "echo ran"]), { stdio: "pipe", hooks: [hook] });
    expect(r.stdout).toBe("ran\n");
    expect(calls).toEqual(["attach:ns", "detach"]);
  });

  it("never starts the command when a hook fails", async () => {
    const p = plan(["sh", "-c", "touch ran"]);
    const hook: RunHook = {
      name: "broken",
      attach: async () => {
        throw new MsError("ERR_MS_HELPER_MISSING", "helper missing");
      },
    };
    const error = await runPlan(p, { stdio: "pipe", hooks: [hook] }).catch((e) => e);
    expect(error.code).toBe("ERR_MS_HELPER_MISSING");
    expect(existsSync(join(p.process.cwd, "ran"))).toBe(false);
  });

  it("reports a missing executor clearly", async () => {
    const error = await runPlan(plan(["true"]), {
      executor: "/no/such/ms-executor",
      stdio: "pipe",
    }).catch((e) => e);
    expect(error.code).toBe("ERR_MS_EXECUTOR");
  });
});
