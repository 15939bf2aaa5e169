/**
 * The executor built with AddressSanitizer and UndefinedBehaviorSanitizer
 * (`make -C packages/namespaces/native asan`, run by scripts/test.sh): the
 * same plans, every path (success, bad plan, setup error, exec failure,
 * signals), with sanitizer reports turned into failures.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runPlan } from "@ms/namespaces/runtime";
import type { Plan } from "@ms/plan";
import { planFixture } from "@ms/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mustWork, REPO, sandboxRoot, sandboxWorks, testBase } from "./harness.js";

const ASAN = join(REPO, "packages/namespaces/native/build/asan/ms-executor");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function plan(argv: string[], mounts: Plan["mounts"] = []): Plan {
  const dir = mkdtempSync(join(testBase(), "asan-"));
  dirs.push(dir);
  const base = planFixture({
    argv,
    cwd: dir,
    uid: 0,
    gid: 0,
    mounts: [
      ...sandboxRoot(dir, [
        { type: "tmpfs", target: "/tmp", mode: 0o1777, sizeBytes: 1 << 20 },
        { type: "file", target: "/tmp/hello", content: "hi\n", mode: 0o644 },
        { type: "mkdir", target: "/tmp/a/b", mode: 0o700 },
        { type: "symlink", target: "/tmp/link", linkTo: "/tmp/hello" },
      ]),
      ...mounts,
    ],
  });
  return {
    ...base,
    namespaces: { ...base.namespaces, uts: true },
    hostname: "box",
    process: {
      ...base.process,
      env: { PATH: "/usr/bin:/bin", ASAN_OPTIONS: "detect_leaks=0" },
      rlimits: [{ name: "core", soft: 0, hard: 0 }],
      timeout: { afterMs: 20_000, graceMs: 100 },
      graceMs: 100,
    },
  };
}

const env = {
  ASAN_OPTIONS: "detect_leaks=0:abort_on_error=1",
  UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
};
const built = existsSync(ASAN);
if (!built && mustWork)
  throw new Error(
    `MS_MUST_WORK=1 but ${ASAN} is missing: run make -C packages/namespaces/native asan`,
  );

(sandboxWorks() && built ? describe : describe.skip)("executor under ASan/UBSan", () => {
  // The executor inherits the sanitizer options from this process.
  const saved = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, env);
  });
  afterAll(() => {
    process.env = saved;
  });
  const run = (p: Plan) => runPlan(p, { executor: ASAN, stdio: "pipe" });

  it("runs a full plan", async () => {
    const r = await run(
      plan(["sh", "-c", "cat /tmp/link; hostname; test -d /tmp/a/b && echo dir"]),
    );
    expect(r.stderr).not.toMatch(/Sanitizer|runtime error/);
    expect(r).toMatchObject({ exitCode: 0, stdout: "hi\nbox\ndir\n" });
  });

  it("reports a setup error and an exec failure cleanly", async () => {
    const bad = await run(
      plan(["true"], [{ type: "bind", source: "/nope", target: "/x", readOnly: true }]),
    ).catch((e) => e);
    expect(bad.code).toBe("ERR_MS_SETUP_FAILED");
    const missing = await run(plan(["no-such-program"])).catch((e) => e);
    expect(missing.code).toBe("ERR_MS_COMMAND_NOT_FOUND");
  });

  it("handles a signal-killed command and a timeout", async () => {
    expect((await run(plan(["sh", "-c", "kill -9 $$"]))).exitCode).toBe(137);
    const p = plan(["sleep", "5"]);
    p.process.timeout = { afterMs: 100, graceMs: 100 };
    expect((await run(p)).exitCode).toBe(124);
  });
});
