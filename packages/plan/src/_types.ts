/**
 * The plan: plain data describing one sandboxed run. Feature packages
 * assemble it, the runtime and the native executor apply it.
 *
 * Every path in a plan is absolute. Sources are host paths; targets are
 * paths inside the sandbox. Steps run in order.
 */

export const PLAN_VERSION = 1 as const;

/** Namespaces the executor creates. user, mount and pid are always on. */
export interface NamespaceSet {
  user: true;
  mount: true;
  pid: true;
  ipc: boolean;
  uts: boolean;
  net: boolean;
  cgroup: boolean;
}

/** Who the command is inside the sandbox. Both ids map to the caller outside. */
export interface Identity {
  uid: number;
  gid: number;
}

/** A recursive bind of a host path (file or directory). */
export interface BindStep {
  type: "bind";
  source: string;
  target: string;
  /** Read-only applies recursively, to every submount. */
  readOnly: boolean;
}

/** A fresh tmpfs. */
export interface TmpfsStep {
  type: "tmpfs";
  target: string;
  /** Octal permission bits of the root directory, e.g. 0o755. */
  mode: number;
  /** Size limit in bytes; 0 means the kernel default (half of RAM). */
  sizeBytes: number;
}

/** A fresh procfs for the sandbox's pid namespace. */
export interface ProcStep {
  type: "proc";
  target: string;
}

/**
 * A minimal /dev: null, zero, full, random, urandom, tty, a new devpts
 * instance with ptmx, a private shm, and the fd/stdin/stdout/stderr links.
 */
export interface DevStep {
  type: "dev";
  target: string;
}

/** An overlay: lower layers read-only, writes go to `upper` (host directory). */
export interface OverlayStep {
  type: "overlay";
  target: string;
  /** Lower layers, topmost first (host paths). */
  lower: string[];
  upper: string;
  work: string;
}

export interface MkdirStep {
  type: "mkdir";
  target: string;
  mode: number;
}

export interface SymlinkStep {
  type: "symlink";
  target: string;
  linkTo: string;
}

/** A read-only file with the given content, created by the executor. */
export interface FileStep {
  type: "file";
  target: string;
  content: string;
  mode: number;
}

/**
 * Make an already mounted path read-only: recursively (every submount), or
 * only the mount at `target` itself (`recursive: false`, e.g. to seal a
 * skeleton root once every mount point in it exists). Default: recursive.
 */
export interface RemountReadOnlyStep {
  type: "remount-ro";
  target: string;
  recursive?: boolean;
}

/**
 * Hide what is at `target`: an empty read-only directory (or an empty
 * read-only file) is mounted over it. Nothing happens if `target` does not
 * exist inside the sandbox; a missing path has nothing to hide.
 */
export interface HideStep {
  type: "hide";
  target: string;
}

export type MountStep =
  | BindStep
  | TmpfsStep
  | ProcStep
  | DevStep
  | OverlayStep
  | MkdirStep
  | SymlinkStep
  | FileStep
  | RemountReadOnlyStep
  | HideStep;

export type MountStepType = MountStep["type"];

/** What the network looks like from inside. */
export type NetworkSpec =
  | { mode: "none"; loopback: boolean }
  | { mode: "host" }
  | { mode: "pasta"; rules: string[] };

export const RLIMIT_NAMES = ["as", "core", "cpu", "fsize", "nofile", "nproc", "stack"] as const;
export type RlimitName = (typeof RLIMIT_NAMES)[number];

export interface Rlimit {
  name: RlimitName;
  /** `null` means unlimited. */
  soft: number | null;
  hard: number | null;
}

export interface TimeoutSpec {
  /** After this many milliseconds the command gets SIGTERM. */
  afterMs: number;
  /** Then, after this many milliseconds, SIGKILL. 0 sends SIGKILL at once. */
  graceMs: number;
}

export interface ProcessSpec {
  argv: string[];
  /** Working directory inside the sandbox. */
  cwd: string;
  /** The complete environment of the command; nothing else is inherited. */
  env: Record<string, string>;
  rlimits: Rlimit[];
  timeout: TimeoutSpec | null;
  /**
   * What SIGINT sent to the sandbox does: `forward` it to the command, or
   * `terminate` (SIGTERM, then SIGKILL after the grace delay).
   */
  onInterrupt: "forward" | "terminate";
  /** Grace delay for `terminate` and for SIGTERM sent to the sandbox. */
  graceMs: number;
}

export interface Plan {
  version: typeof PLAN_VERSION;
  namespaces: NamespaceSet;
  identity: Identity;
  /** Hostname inside (needs the uts namespace); `null` keeps the host's. */
  hostname: string | null;
  network: NetworkSpec;
  mounts: MountStep[];
  process: ProcessSpec;
  /**
   * When true the executor stops after setting up the namespaces and waits
   * until the runtime releases it (after running its hooks, e.g. attaching
   * pasta), before it starts the command.
   */
  waitForRelease: boolean;
}
