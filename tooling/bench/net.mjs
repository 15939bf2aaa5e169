// Issue 4: pasta mode. Start-up overhead over the default mode, and bulk TCP
// download throughput through the sandbox against the same download directly
// in the test world's client namespace and through slirp4netns. Everything
// runs inside a private test world (test-vm/, its own MS_WORLD prefix): no
// packet leaves the machine. Needs root (the world is made of netns).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startWorld, stopWorld } from "../../test-vm/world.mjs";
import { CLI, interleaved, line, median, RUNS, timeOnce } from "./lib.mjs";

const PREFIX = "msbench";
const NS = `${PREFIX}-client`;
const SIZE = Number(process.env.MS_BENCH_NET_BYTES ?? 256 * 1024 * 1024);
const URL = `http://203.0.113.10/big?size=${SIZE}`;
const CURL = ["curl", "-fsS", "-o", "/dev/null", "-w", "%{speed_download}", URL];

function inClient(argv) {
  return ["ip", "netns", "exec", NS, ...argv];
}

/** Bytes per second reported by curl, from argv's stdout. */
function speed(argv, cwd) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd, encoding: "utf8", timeout: 120_000 });
  const v = Number(r.stdout.trim().split("\n").pop());
  if (r.status !== 0 || !Number.isFinite(v) || v <= 0)
    throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return v;
}

// slirp4netns: a fresh user+net namespace, slirp4netns attached to it, curl inside.
const SLIRP = `
d=$(mktemp -d)
unshare -rn sh -c 'echo $$ > "$1"/pid; exec sleep 120' sh "$d" &
while [ ! -s "$d/pid" ]; do sleep 0.01; done
pid=$(cat "$d/pid")
slirp4netns --configure --mtu=65520 --disable-host-loopback "$pid" tap0 >/dev/null 2>&1 &
s=$!
sleep 0.5
nsenter -t "$pid" -U -n --preserve-credentials -- "$@"
rc=$?
kill "$s" "$pid" 2>/dev/null
rm -rf "$d"
exit $rc`;

export async function bench(out) {
  if (process.getuid() !== 0) {
    out("skipped: the network benchmark builds a test world and needs root");
    return;
  }
  await startWorld({ prefix: PREFIX });
  const cwd = mkdtempSync("/tmp/ms-bench-net-");
  try {
    chmodSync(cwd, 0o755);
    writeFileSync(join(cwd, "rules.txt"), "203.0.113.10\nallowed.test\n");
    const runs = Math.min(RUNS, 20);
    const t = await interleaved(
      {
        node: () => timeOnce(inClient(["node", "-e", "0"]), { cwd }),
        loopback: () => timeOnce(inClient([CLI, "--", "true"]), { cwd }),
        pasta: () => timeOnce(inClient([CLI, "-F", "rules.txt", "--", "true"]), { cwd }),
      },
      runs,
      2,
    );
    out(`pasta mode start-up (median of ${runs}, as root in the test world's client namespace):`);
    out(line("mini-sandbox -- true (default network)", t.loopback, t.loopback, "default"));
    out(line("mini-sandbox -F rules -- true (pasta mode)", t.pasta, t.loopback, "default"));
    out(`  pasta mode overhead: +${(t.pasta - t.loopback).toFixed(1)} ms over the default mode`);

    const speeds = { direct: [], sandbox: [], slirp: [] };
    for (let i = 0; i < 3; i++) {
      speeds.direct.push(speed(inClient(CURL), cwd));
      speeds.sandbox.push(speed(inClient([CLI, "-F", "rules.txt", "--", ...CURL]), cwd));
      speeds.slirp.push(speed(inClient(["sh", "-c", SLIRP, "sh", ...CURL]), cwd));
    }
    const mib = (v) => `${(v / 1048576).toFixed(0)} MiB/s`;
    const d = median(speeds.direct);
    const s = median(speeds.sandbox);
    const l = median(speeds.slirp);
    out(`bulk TCP download of ${SIZE >> 20} MiB over HTTP (median of 3):`);
    out(`  directly in the client namespace          ${mib(d).padStart(12)}`);
    out(
      `  through the sandbox (pasta + nftables)    ${mib(s).padStart(12)}   ${((100 * s) / d).toFixed(0)}% of direct (target >= 50%: ${s / d >= 0.5 ? "met" : "NOT met"})`,
    );
    out(
      `  through slirp4netns                       ${mib(l).padStart(12)}   sandbox is ${(s / l).toFixed(2)}x slirp4netns (target >= 2x: ${s / l >= 2 ? "met" : "NOT met"})`,
    );
  } finally {
    rmSync(cwd, { recursive: true, force: true });
    await stopWorld({ prefix: PREFIX });
  }
}
