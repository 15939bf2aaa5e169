/**
 * Reads the host for pasta mode: the helpers it needs (pasta, nft,
 * nsenter), access to /dev/net/tun, the host's own addresses and its
 * upstream resolver. Kept apart from the pure builders.
 */
import { accessSync, closeSync, constants, openSync, readFileSync, statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { isAbsolute, join } from "node:path";
import { MsError } from "@ms/plan";
import { type Address, parseAddress } from "./_ip.js";

export interface PastaTools {
  pasta: string;
  nft: string;
  nsenter: string;
}

export interface NetHostFacts {
  /** Every address of this host's interfaces (denied inside unless allowed explicitly). */
  hostAddresses: Address[];
  /** The upstream resolver: the first nameserver of /etc/resolv.conf, or null. */
  upstream: string | null;
}

/** Same shape as the namespaces package's doctor checks. */
export interface NetCheck {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  hint?: string;
}

/** nft lives in sbin, which an ordinary user's PATH often lacks. */
const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

const REMEDY: Record<keyof PastaTools, string> = {
  pasta: "install pasta (Debian/Ubuntu: apt-get install passt; Fedora: dnf install passt)",
  nft: "install nftables (Debian/Ubuntu: apt-get install nftables)",
  nsenter: "install util-linux (it provides nsenter)",
};

/**
 * An executable named `name` on PATH (absolute entries only, never the
 * working directory), then in the sbin directories for nft.
 */
export function findHelper(name: string, path: string | undefined, cwd: string): string | null {
  const dirs = (path ?? "").split(":").filter((d) => isAbsolute(d) && d !== cwd);
  if (name === "nft") dirs.push(...SBIN);
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // next
    }
  }
  return null;
}

/** Whether this process can open /dev/net/tun (pasta needs it); the reason if not. */
export function tunProblem(): string | null {
  try {
    closeSync(openSync("/dev/net/tun", "r+"));
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "/dev/net/tun does not exist";
    if (code === "EACCES" || code === "EPERM") return "no permission to open /dev/net/tun";
    return `cannot open /dev/net/tun: ${code ?? String(error)}`;
  }
}

const TUN_HINT =
  "as root: chmod 0666 /dev/net/tun (most distributions ship it so; persist it with a udev rule: " +
  'KERNEL=="tun", MODE="0666"), or modprobe tun if it is missing';

/**
 * The helpers pasta mode needs, resolved to absolute paths. Throws
 * ERR_MS_HELPER_MISSING (exit 125) naming what is missing and the remedy.
 */
export function requirePastaTools(env: { PATH?: string | undefined }, cwd: string): PastaTools {
  const tools = {} as PastaTools;
  for (const name of ["pasta", "nft", "nsenter"] as const) {
    const found = findHelper(name, env.PATH, cwd);
    if (!found)
      throw new MsError(
        "ERR_MS_HELPER_MISSING",
        `pasta mode (-F/--allow) needs '${name}', which is not on PATH`,
        { hint: REMEDY[name] },
      );
    tools[name] = found;
  }
  const tun = tunProblem();
  if (tun)
    throw new MsError("ERR_MS_HELPER_MISSING", `pasta mode (-F/--allow): ${tun}`, {
      hint: TUN_HINT,
    });
  return tools;
}

export function probeNetHost(): NetHostFacts {
  const hostAddresses: Address[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const info of list ?? []) {
      const addr = parseAddress(info.address.replace(/%.*$/, ""));
      if (addr) hostAddresses.push(addr);
    }
  let upstream: string | null = null;
  try {
    for (const line of readFileSync("/etc/resolv.conf", "utf8").split("\n")) {
      const m = /^\s*nameserver\s+(\S+)/.exec(line);
      if (m && parseAddress((m[1] as string).replace(/%.*$/, ""))) {
        upstream = (m[1] as string).replace(/%.*$/, "");
        break;
      }
    }
  } catch {
    // no resolv.conf: no upstream
  }
  return { hostAddresses, upstream };
}

/** Doctor checks for pasta mode (warnings: the other modes work without it). */
export function checkPastaMode(
  env: { PATH?: string | undefined } = process.env,
  cwd = process.cwd(),
): NetCheck[] {
  const checks: NetCheck[] = [];
  for (const name of ["pasta", "nft", "nsenter"] as const) {
    const found = findHelper(name, env.PATH, cwd);
    checks.push(
      found
        ? { name: `pasta mode: ${name}`, status: "ok", detail: found }
        : {
            name: `pasta mode: ${name}`,
            status: "warn",
            detail: "not found: pasta mode (-F/--allow) will refuse to run",
            hint: REMEDY[name],
          },
    );
  }
  const tun = tunProblem();
  checks.push(
    tun
      ? {
          name: "pasta mode: /dev/net/tun",
          status: "warn",
          detail: `${tun}: pasta mode (-F/--allow) will refuse to run`,
          hint: TUN_HINT,
        }
      : { name: "pasta mode: /dev/net/tun", status: "ok", detail: "can be opened" },
  );
  const { upstream } = probeNetHost();
  checks.push(
    upstream
      ? { name: "pasta mode: upstream resolver", status: "ok", detail: upstream }
      : {
          name: "pasta mode: upstream resolver",
          status: "warn",
          detail: "/etc/resolv.conf names no nameserver: names cannot be resolved in pasta mode",
          hint: "add a nameserver line to /etc/resolv.conf, or allow IP addresses only",
        },
  );
  return checks;
}
