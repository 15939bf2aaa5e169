/**
 * The end-to-end harness: runs the built CLI as a real user (an
 * unprivileged test user, and root when the suite runs as root), in
 * working directories owned by that user, and snapshots what the host
 * looks like so tests can assert that nothing changed.
 */
import { type SpawnOptions, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plan } from "@ms/plan";
import { afterAll, describe } from "vitest";

export const REPO = fileURLToPath(new URL("../../..", import.meta.url));
export const CLI = join(REPO, "apps/cli/bin/mini-sandbox");

export interface User {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export const mustWork = process.env.MS_MUST_WORK === "1";
export const amRoot = process.getuid?.() === 0;
const TEST_USER = process.env.MS_TEST_USER ?? "mstest";

function lookup(name: string): User | null {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const f = line.split(":");
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "/" };
}

/**
 * Who the suite runs the sandbox as: always an unprivileged user, and
 * root too when the suite itself is root. As root, the unprivileged user
 * is MS_TEST_USER (default mstest); .ci/run creates it.
 */
export function testUsers(): User[] {
  if (!amRoot) {
    const uid = process.getuid?.() ?? 0;
    const self = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((l) => l.split(":"))
      .find((f) => Number(f[2]) === uid);
    if (!self) throw new Error(`no passwd entry for uid ${uid}`);
    return [{ name: self[0] as string, uid, gid: Number(self[3]), home: self[5] as string }];
  }
  const unprivileged = lookup(TEST_USER);
  if (!unprivileged) {
    if (mustWork)
      throw new Error(
        `test user ${TEST_USER} does not exist (MS_MUST_WORK=1): create it, e.g. useradd -m ${TEST_USER}`,
      );
    return [lookup("root") ?? { name: "root", uid: 0, gid: 0, home: "/root" }];
  }
  return [unprivileged, lookup("root") ?? { name: "root", uid: 0, gid: 0, home: "/root" }];
}

export interface RunOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOpts {
  cwd: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** The argv that runs `argv` as `user` (runuser when the suite is root and user is not). */
export function asUser(user: User, argv: string[], env: Record<string, string> = {}): string[] {
  const base = {
    PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
    HOME: user.home,
    USER: user.name,
    LANG: "C.UTF-8",
    ...env,
  };
  const envArgs = Object.entries(base).map(([k, v]) => `${k}=${v}`);
  // setpriv execs (runuser forks and would stand between a test and the CLI's pid).
  const runAs =
    amRoot && user.uid !== 0
      ? ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "--"]
      : [];
  return [...runAs, "env", "-i", ...envArgs, ...argv];
}

export function spawnAs(user: User, argv: string[], opts: RunOpts, extra: SpawnOptions = {}) {
  const full = asUser(user, argv, opts.env);
  return spawn(full[0] as string, full.slice(1), {
    cwd: opts.cwd,
    stdio: ["pipe", "pipe", "pipe"],
    ...extra,
  });
}

/** Runs the CLI with `args` as `user`; resolves with its exit code and output. */
export function runCli(user: User, args: string[], opts: RunOpts): Promise<RunOutput> {
  return runAs(user, [CLI, ...args], opts);
}

export function runAs(user: User, argv: string[], opts: RunOpts): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawnAs(user, argv, opts);
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d) => {
      stdout += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin?.end(opts.input ?? "");
  });
}

const created: string[] = [];
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

let base: string | null = null;
/** All test directories live below one base, so leftover checks can ignore it. */
export function testBase(): string {
  if (!base) {
    base = mkdtempSync("/tmp/ms-e2e-");
    chmodSync(base, 0o755);
    created.push(base);
  }
  return base;
}

/** A fresh directory owned by `user` (their working directory for a test). */
export function workdir(user: User, name = "wd"): string {
  const dir = mkdtempSync(join(testBase(), `${name}-`));
  if (amRoot) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o755);
  return dir;
}

export function sh(cmd: string): string {
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
  return r.stdout;
}

/** What must be unchanged on the host after a run: temp dirs, the home, mounts, processes. */
export interface HostSnapshot {
  tmp: string[];
  varTmp: string[];
  home: string[];
  mounts: string;
  processes: string[];
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function snapshot(user: User): HostSnapshot {
  const ignore = base ? base.slice("/tmp/".length) : "";
  return {
    tmp: list("/tmp").filter(
      (n) => n !== ignore && !n.startsWith("ms-e2e-") && !n.startsWith("bash_jobs"),
    ),
    varTmp: list("/var/tmp"),
    home: existsSync(user.home) ? list(user.home) : [],
    mounts: readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ").slice(4, 5).join(" "))
      .sort()
      .join("\n"),
    processes: sh(`ps -o comm= -u ${user.uid} | grep -E 'ms-executor|pasta|passt' || true`)
      .split("\n")
      .filter(Boolean),
  };
}

/** A unique marker for process checks. */
export function marker(): string {
  return `ms${process.pid}x${Math.floor(Math.random() * 1e9)}`;
}

let checked: boolean | null = null;
/**
 * Whether this host can create the sandbox's namespaces. With
 * MS_MUST_WORK=1 a host that cannot is an error, never a silent skip.
 */
export function sandboxWorks(): boolean {
  if (checked !== null) return checked;
  const user = testUsers()[0] as User;
  const cwd = testBase();
  const r = spawnSync(
    asUser(user, [CLI, "true"])[0] as string,
    asUser(user, [CLI, "true"]).slice(1),
    { cwd, encoding: "utf8" },
  );
  checked = r.status === 0;
  if (!checked && mustWork)
    throw new Error(
      `MS_MUST_WORK=1 but the sandbox does not work here (exit ${r.status}):\n${r.stderr}`,
    );
  if (!checked)
    console.warn(`skipping end-to-end tests: the sandbox does not work here:\n${r.stderr}`);
  return checked;
}

/** describe() that runs once per test user, skipping (with a reason) only where allowed. */
export function describeEachUser(title: string, body: (user: User) => void): void {
  for (const user of testUsers()) {
    const works = sandboxWorks();
    (works ? describe : describe.skip)(`${title} [as ${user.name}]`, () => body(user));
  }
}

export function mkdirp(path: string): void {
  mkdirSync(path, { recursive: true });
}

/**
 * The host read-only with devices, procfs, `extra`, then `dir` writable
 * (last, so a tmpfs in `extra` cannot cover it): the base of library-level plans.
 */
export function sandboxRoot(dir: string, extra: Plan["mounts"] = []): Plan["mounts"] {
  return [
    { type: "bind", source: "/", target: "/", readOnly: true },
    { type: "dev", target: "/dev" },
    { type: "proc", target: "/proc" },
    ...extra,
    { type: "bind", source: dir, target: dir, readOnly: false },
  ];
}

export interface StartedCli {
  child: ReturnType<typeof spawnAs>;
  /** Everything the command printed on stdout so far. */
  output(): string;
  /** Resolves once stdout contains `token`. */
  printed(token: string): Promise<void>;
  /** Resolves with the CLI's exit status. */
  exited: Promise<number | null>;
}

/** Starts the CLI as `user` without waiting, for tests that signal or kill it. */
export function startCli(
  user: User,
  args: string[],
  opts: RunOpts,
  extra: SpawnOptions = {},
): StartedCli {
  const child = spawnAs(user, [CLI, ...args], opts, extra);
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const printed = async (token: string) => {
    while (!out.includes(token)) await new Promise((r) => setTimeout(r, 20));
  };
  return { child, output: () => out, printed, exited };
}

/** What /dev holds in every mode (sorted). */
export const MINIMAL_DEV = [
  "fd",
  "full",
  "null",
  "ptmx",
  "pts",
  "random",
  "shm",
  "stderr",
  "stdin",
  "stdout",
  "tty",
  "urandom",
  "zero",
];
