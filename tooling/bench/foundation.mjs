// Issue 2: read-only mode start-up, CLI and library path.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, interleaved, line, REPO, timeOnce } from "./lib.mjs";

const BWRAP = [
  "bwrap",
  "--unshare-all",
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--tmpfs",
  "/tmp",
  "true",
];

export async function bench(out) {
  const cwd = mkdtempSync(join(tmpdir(), "ms-bench-"));
  try {
    const cli = await interleaved({
      node: () => timeOnce(["node", "-e", "0"], { cwd }),
      nodeSpawn: () =>
        timeOnce(["node", "-e", "require('node:child_process').spawnSync('true')"], { cwd }),
      cli: () => timeOnce([CLI, "--", "true"], { cwd }),
      bwrap: () => timeOnce(BWRAP, { cwd }),
    });
    out("read-only mode, whole command (median wall time):");
    out(line("node -e 0 (floor of any Node CLI)", cli.node, cli.node, "node"));
    out(
      line(
        "node spawning true (floor of a CLI that runs a command)",
        cli.nodeSpawn,
        cli.node,
        "node",
      ),
    );
    out(line("mini-sandbox -- true", cli.cli, cli.node, "node", 1.2));
    out(line("bwrap --unshare-all ... true", cli.bwrap, cli.node, "node"));

    // The library path: a plan run from an already running Node process.
    const { runPlan } = await import(`${REPO}/packages/namespaces/dist/runtime.js`);
    const { buildPlan } = await import(`${REPO}/packages/policy/dist/index.js`);
    const plan = buildPlan(
      { command: ["true"], cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
      { uid: process.getuid(), gid: process.getgid(), ttyGid: null },
    );
    const { spawn } = await import("node:child_process");
    const spawnWait = (argv) =>
      new Promise((resolve, reject) => {
        const t = process.hrtime.bigint();
        const c = spawn(argv[0], argv.slice(1), { stdio: "ignore", cwd });
        c.on("error", reject);
        c.on("close", (code) =>
          code === 0
            ? resolve(Number(process.hrtime.bigint() - t) / 1e6)
            : reject(new Error(`exit ${code}`)),
        );
      });
    const lib = await interleaved({
      library: async () => {
        const t = process.hrtime.bigint();
        const r = await runPlan(plan, { stdio: "pipe" });
        if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
        return Number(process.hrtime.bigint() - t) / 1e6;
      },
      bwrap: () => spawnWait(BWRAP),
    });
    out("library path, from a running Node process (median):");
    out(line("bwrap ... true (spawned from Node)", lib.bwrap, lib.bwrap, "bwrap"));
    out(line("runPlan(read-only plan for true)", lib.library, lib.bwrap, "bwrap", 1.5));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
