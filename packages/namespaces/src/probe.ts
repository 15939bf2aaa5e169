/**
 * Reads the host: the caller's identity and what the kernel allows.
 * Kept apart from the pure builders so those stay testable without a kernel.
 */
import { readFileSync } from "node:fs";
import { release } from "node:os";

export interface CallerFacts {
  uid: number;
  gid: number;
}

export function probeCaller(): CallerFacts {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** The gid of the `tty` group, or null. */
export function probeTtyGid(): number | null {
  try {
    const line = readFileSync("/etc/group", "utf8")
      .split("\n")
      .find((l) => l.startsWith("tty:"));
    const gid = line ? Number(line.split(":")[2]) : Number.NaN;
    return Number.isInteger(gid) ? gid : null;
  } catch {
    return null;
  }
}

export interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  hint?: string;
}

function sysctl(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

/** Static checks of the kernel's user namespace settings (no namespace is created). */
export function checkUserNamespaceSettings(): Check[] {
  const checks: Check[] = [];
  const [major = 0, minor = 0] = release().split(".").map(Number);
  checks.push(
    major > 5 || (major === 5 && minor >= 12)
      ? { name: "kernel", status: "ok", detail: `Linux ${release()}` }
      : {
          name: "kernel",
          status: "fail",
          detail: `Linux ${release()} is older than 5.12`,
          hint: "mini-sandbox needs the new mount API and mount_setattr (Linux 5.12 or newer)",
        },
  );
  const max = sysctl("/proc/sys/user/max_user_namespaces");
  checks.push(
    max === null || Number(max) > 0
      ? { name: "user.max_user_namespaces", status: "ok", detail: max ?? "not present" }
      : {
          name: "user.max_user_namespaces",
          status: "fail",
          detail: "0: user namespaces are disabled",
          hint: "as root: sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)",
        },
  );
  const clone = sysctl("/proc/sys/kernel/unprivileged_userns_clone");
  if (clone !== null)
    checks.push(
      clone === "1"
        ? { name: "kernel.unprivileged_userns_clone", status: "ok", detail: "1" }
        : {
            name: "kernel.unprivileged_userns_clone",
            status: "fail",
            detail: "0: unprivileged user namespaces are disabled",
            hint: "as root: sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)",
          },
    );
  const apparmor = sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  if (apparmor !== null)
    checks.push(
      apparmor === "0"
        ? { name: "kernel.apparmor_restrict_unprivileged_userns", status: "ok", detail: "0" }
        : {
            name: "kernel.apparmor_restrict_unprivileged_userns",
            status: "fail",
            detail: "1: AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and later)",
            hint:
              "as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give the executor an AppArmor " +
              "profile with 'userns,' (see the README)",
          },
    );
  return checks;
}
