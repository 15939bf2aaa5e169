/**
 * Starting and stopping pasta, and running nft inside the sandbox's
 * network namespace. Both get the namespaces as descriptors we opened from
 * /proc/PID/ns while the sandbox was waiting for release, so they act on
 * exactly that sandbox (never on a namespace a recycled pid points at) and
 * still can after it has exited (to read the blocked-attempts sets back).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MsError } from "@ms/plan";
import { DNS_STUB } from "./_firewall.js";

export interface NamespaceFds {
  net: number;
  user: number;
}

/** Runs `nft ARGS` inside the sandbox's user and network namespaces; resolves with stdout. */
export function nftIn(
  tools: { nsenter: string; nft: string },
  ns: NamespaceFds,
  args: string[],
  input = "",
): Promise<string> {
  return new Promise((resolve, reject) => {
    // The sandbox's user namespace gives CAP_NET_ADMIN over its net namespace;
    // the command runs in a nested one without it, so only we can do this.
    const child = spawn(
      tools.nsenter,
      [
        "--net=/proc/self/fd/3",
        "--user=/proc/self/fd/4",
        "--preserve-credentials",
        "--",
        tools.nft,
        ...args,
      ],
      { stdio: ["pipe", "pipe", "pipe", ns.net, ns.user] },
    );
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            (err.trim() || `nft ${signal ? `killed by ${signal}` : `exited ${code}`}`).slice(
              0,
              2000,
            ),
          ),
        );
    });
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

export interface PastaProcess {
  pid: number;
  /** Stops pasta (SIGKILL) and removes its pid file; resolves once it is gone. */
  stop(): Promise<void>;
}

/*
 * A small sh watchdog is pasta's parent: it holds a pipe from us on fd 5
 * and kills pasta (SIGKILL) when that pipe closes, which happens when we
 * stop it and also when this process dies, even of SIGKILL (then it also
 * removes pasta's private directory). Debian 12's pasta never exits on its
 * own once the sandbox is gone.
 */
const WATCHDOG = [
  "exec 5<&0",
  '"$@" <&3 >&4 3<&- 4<&- 5<&- &',
  "p=$!",
  // pasta keeps our stderr; the watchdog itself must not die of SIGPIPE
  // writing "Killed" to it once we are gone.
  "exec 3<&- 4<&- 2>/dev/null",
  "{ read -r _ <&5; kill -KILL $p; } 2>/dev/null &",
  "r=$!",
  "exec 5<&-",
  "wait $p; s=$?",
  "kill $r 2>/dev/null",
  'rm -rf -- "$MS_PASTA_DIR"',
  "exit $s",
].join("\n");

export const PASTA_START_TIMEOUT_MS = 10_000;

/**
 * pasta with no inbound forwarding (-t/-u none), no forwarding to the
 * host's loopback except sandbox 127.0.0.1:53 -> our DNS service
 * (-T/-U 53:PORT), no gateway-to-host mapping, no DHCP/RA (the interface
 * is configured over netlink). ICMP stays on: in this pasta, --no-icmp
 * also stops IPv6 neighbour discovery; the firewall denies ICMP anyway. Resolves once it is ready (its pid
 * file is written), rejects with ERR_MS_SETUP_FAILED otherwise.
 */
export async function startPasta(
  pasta: string,
  ns: NamespaceFds,
  dnsPort: number,
  root: boolean,
): Promise<PastaProcess> {
  const dir = mkdtempSync(join(tmpdir(), "ms-pasta-"));
  const pidFile = join(dir, "pid");
  const args = [
    "--config-net",
    "-t",
    "none",
    "-u",
    "none",
    "-T",
    `${DNS_STUB.port}:${dnsPort}`,
    "-U",
    `${DNS_STUB.port}:${dnsPort}`,
    "--no-map-gw",
    "--no-dhcp",
    "--no-dhcpv6",
    "--no-ra",
    "-q",
    "-f",
    "-P",
    pidFile,
    "--netns",
    "/proc/self/fd/0",
    "--userns",
    "/proc/self/fd/1",
  ];
  // As root, pasta would switch to nobody, who cannot use the sandbox's
  // user namespace (owned by root); keep root, as the caller already is.
  if (root) args.push("--runas", "0:0");
  const child: ChildProcess = spawn("/bin/sh", ["-c", WATCHDOG, "ms-pasta", pasta, ...args], {
    stdio: ["pipe", "ignore", "pipe", ns.net, ns.user],
    env: { ...process.env, MS_PASTA_DIR: dir },
  });
  child.stdin?.on("error", () => {});
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const gone = new Promise<void>((resolve) => {
    child.on("close", (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.on("error", (e) => {
      stderr += e.message;
      exited = { code: null, signal: null };
      resolve();
    });
  });
  const stop = async () => {
    const pid = readPid(pidFile);
    child.stdin?.end();
    if (pid) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, 3000)))]);
    clearTimeout(timer);
    if (!exited) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };

  const started = Date.now();
  for (;;) {
    const pid = readPid(pidFile);
    if (pid) return { pid, stop };
    if (exited) {
      await stop();
      const first = stderr.trim().split("\n").slice(-3).join("; ");
      throw new MsError("ERR_MS_SETUP_FAILED", `pasta failed to start: ${first || "no message"}`, {
        hint: /tun/i.test(stderr)
          ? "pasta could not open /dev/net/tun: as root, chmod 0666 /dev/net/tun (or add a udev rule)"
          : "run 'mini-sandbox doctor'; pasta (Debian package passt) must be able to join the sandbox's namespaces",
      });
    }
    if (Date.now() - started > PASTA_START_TIMEOUT_MS) {
      await stop();
      throw new MsError(
        "ERR_MS_SETUP_FAILED",
        `pasta did not become ready within ${PASTA_START_TIMEOUT_MS / 1000} s${stderr ? `: ${stderr.trim()}` : ""}`,
        { hint: "run 'mini-sandbox doctor'" },
      );
    }
    await new Promise((r) => setTimeout(r, 3));
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}
