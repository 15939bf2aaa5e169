// Issue 3: the default mode (-x). Start-up against the Node floor, and how
// setup grows with the number of host mounts. The extra mounts live only in
// private mount namespaces made for the benchmark (unshare -m), each with a
// tmpfs over /mnt holding N small tmpfs mounts, so the host never sees them.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, interleaved, line, RUNS, timeOnce } from "./lib.mjs";

const COUNTS = [0, 100, 1000];

// Runs inside the private namespace: makes N mounts, then times one CLI run per input line.
const RUNNER = `
const { execFileSync, spawnSync } = require("node:child_process");
const [n, cli, cwd] = process.argv.slice(1);
execFileSync("sh", ["-c", 'mount -t tmpfs -o size=64k ms-bench /mnt && i=0 && while [ $i -lt "$1" ]; do i=$((i+1)); mkdir /mnt/m$i && mount -t tmpfs -o size=4k ms-bench /mnt/m$i || exit 1; done', "sh", n]);
const mounts = require("node:fs").readFileSync("/proc/self/mountinfo", "utf8").split("\\n").length - 1;
process.stdout.write("ready " + mounts + "\\n");
let buf = "";
process.stdin.on("data", (d) => {
  buf += d;
  while (buf.includes("\\n")) {
    buf = buf.slice(buf.indexOf("\\n") + 1);
    const t = process.hrtime.bigint();
    const r = spawnSync(cli, ["-x", "--", "true"], { cwd, stdio: "ignore" });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    process.stdout.write((r.status === 0 ? ms : -1) + "\\n");
  }
});
process.stdin.on("end", () => process.exit(0));
`;

/** A runner in its own mount namespace with `n` extra mounts; `time()` runs the CLI once there. */
async function namespaceRunner(n, cwd) {
  const unshare =
    process.getuid() === 0
      ? ["unshare", "-m", "--propagation", "private"]
      : ["unshare", "-r", "-m", "--propagation", "private"];
  const child = spawn(
    unshare[0],
    [...unshare.slice(1), process.execPath, "-e", RUNNER, String(n), CLI, cwd],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines = [];
  let waiting = null;
  let buf = "";
  child.stdout.setEncoding("utf8").on("data", (d) => {
    buf += d;
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
    if (waiting && lines.length) waiting();
  });
  let exited = null;
  child.on("exit", (code) => {
    exited = new Error(`mount namespace runner (${n} mounts) exited ${code}`);
    if (waiting) waiting();
  });
  const next = () =>
    new Promise((resolve, reject) => {
      const take = () => {
        waiting = null;
        if (lines.length) resolve(lines.shift());
        else reject(exited);
      };
      if (lines.length || exited) take();
      else waiting = take;
    });
  const ready = await next();
  return {
    mounts: Number(ready.split(" ")[1]),
    async time() {
      child.stdin.write("go\n");
      const ms = Number(await next());
      if (ms < 0) throw new Error(`mini-sandbox -x failed with ${n} extra mounts`);
      return ms;
    },
    close() {
      child.stdin.end();
    },
  };
}

export async function bench(out) {
  const cwd = mkdtempSync(join(tmpdir(), "ms-bench-"));
  try {
    const start = await interleaved({
      node: () => timeOnce(["node", "-e", "0"], { cwd }),
      readOnly: () => timeOnce([CLI, "--", "true"], { cwd }),
      x: () => timeOnce([CLI, "-x", "--", "true"], { cwd }),
    });
    out("default mode, whole command (median wall time):");
    out(line("node -e 0 (floor of any Node CLI)", start.node, start.node, "node"));
    out(line("mini-sandbox -- true (read-only mode)", start.readOnly, start.node, "node"));
    out(line("mini-sandbox -x -- true", start.x, start.node, "node", 1.3));

    const runners = [];
    try {
      for (const n of COUNTS) runners.push(await namespaceRunner(n, cwd));
      const cases = Object.fromEntries(runners.map((r, i) => [COUNTS[i], () => r.time()]));
      const t = await interleaved(cases, Math.max(10, Math.round(RUNS / 2)));
      out(
        "setup with extra host mounts (mini-sandbox -x -- true, median, in private mount namespaces):",
      );
      for (const [i, n] of COUNTS.entries())
        out(
          `  ${`${n} extra mounts (${runners[i].mounts} in the table)`.padEnd(56)} ${t[n].toFixed(1).padStart(8)} ms`,
        );
      const perMount = ((t[1000] - t[0]) / 1000) * 1000;
      const per100 = ((t[100] - t[0]) / 100) * 1000;
      const verdict = perMount <= 50 ? "met" : "NOT met";
      out(
        `  growth: ${per100.toFixed(1)} µs/mount (0->100), ${perMount.toFixed(1)} µs/mount (0->1000)  (target <= 50 µs/mount: ${verdict})`,
      );
    } finally {
      for (const r of runners) r.close();
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
