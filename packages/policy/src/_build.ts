import {
  customModeMounts,
  defaultModeMounts,
  type ExplicitMount,
  type FsHostFacts,
  type FsLayout,
  readOnlyModeMounts,
} from "@ms/fs-overlay";
import { type IdentityMode, namespaceSpec } from "@ms/namespaces";
import { type NetworkMode, networkPlan, type PastaNetwork } from "@ms/net-pasta";
import { MsError, PLAN_VERSION, type Plan, type TimeoutSpec, validatePlan } from "@ms/plan";

/**
 * The filesystem modes: `read-only` (no mode flag), `default` (-x: overlays,
 * home hidden), `custom` (-o ROOT), `hermetic` (-h ROOT).
 */
export type FsMode = "read-only" | "default" | "custom" | "hermetic";

/** Everything a frontend decides; the CLI's flags map onto these fields one to one. */
export interface SandboxOptions {
  command: string[];
  /** Working directory: physical, absolute; writable inside. */
  cwd: string;
  mode?: FsMode;
  /** The caller's home, canonical (default mode hides it, keeping the path to cwd). */
  home?: string | null;
  /** $XDG_RUNTIME_DIR: private and empty inside (default mode). */
  runtimeDir?: string | null;
  /** The user's own mounts (-M, -M/-m, -w, -e, -k), in order. */
  mounts?: ExplicitMount[];
  /** The per-run directory holding overlay upper/work directories (default mode, -k). */
  storage?: string | null;
  /** The per-run root directory on the host (custom and hermetic modes). */
  root?: string | null;
  identity?: IdentityMode;
  /** Run with the tty group as gid (-P). */
  ttyGroup?: boolean;
  /** A private hostname, `localhost` with -H. */
  hostname?: string | null;
  /** A mode, or pasta mode with its parsed allow rules (@ms/net-pasta parseRules). */
  network?: NetworkMode | PastaNetwork;
  timeout?: TimeoutSpec | null;
  /** Grace delay before SIGKILL after SIGTERM (and SIGINT with -i). */
  graceMs?: number;
  /** -i: SIGINT terminates the sandbox like SIGTERM. */
  interruptTerminates?: boolean;
  /** The command's environment. */
  env: Record<string, string>;
}

/** What the probe found out about the host, passed in so this stays pure. */
export interface HostFacts {
  uid: number;
  gid: number;
  ttyGid: number | null;
  /** The filesystem facts (@ms/fs-overlay/probe); needed by the default mode. */
  fs?: FsHostFacts;
}

function needs(what: string, mode: FsMode): MsError {
  return new MsError("ERR_MS_INTERNAL", `the ${mode} filesystem mode needs ${what}`, {
    hint: "frontends pass it in SandboxOptions / HostFacts (see @ms/policy)",
  });
}

/** The mount steps of the chosen filesystem mode, the working directory inside, and notices for the user. */
export function planFilesystem(options: SandboxOptions, host: HostFacts): FsLayout {
  const mode = options.mode ?? "read-only";
  const mounts = options.mounts ?? [];
  switch (mode) {
    case "read-only":
      return {
        mounts: readOnlyModeMounts({ cwd: options.cwd, mounts }),
        cwd: options.cwd,
        notices: [],
      };
    case "default":
      if (!host.fs) throw needs("the host's filesystem facts (HostFacts.fs)", mode);
      if (!options.storage) throw needs("a storage directory (SandboxOptions.storage)", mode);
      return defaultModeMounts({
        cwd: options.cwd,
        home: options.home ?? null,
        runtimeDir: options.runtimeDir ?? null,
        storage: options.storage,
        mounts,
        host: host.fs,
      });
    case "custom":
    case "hermetic":
      if (!options.root) throw needs("a root directory (SandboxOptions.root)", mode);
      return customModeMounts({
        cwd: options.cwd,
        root: options.root,
        storage: options.storage ?? null,
        mounts,
        hostRoot: host.fs?.root ?? [],
        hostMounts: host.fs?.mounts ?? [],
      });
  }
}

export const DEFAULT_GRACE_MS = 2000;

/** Turns options into a validated plan by asking each feature package for its part. */
export function buildPlan(options: SandboxOptions, host: HostFacts): Plan {
  return planSandbox(options, host).plan;
}

/** The plan, and the notices a frontend should show (e.g. the home is not shared). */
export function planSandbox(
  options: SandboxOptions,
  host: HostFacts,
): { plan: Plan; notices: string[] } {
  const fs = planFilesystem(options, host);
  const net = networkPlan(options.network ?? "loopback");
  const spec = namespaceSpec({
    caller: { uid: host.uid, gid: host.gid },
    identity: options.identity ?? "caller",
    ...(options.ttyGroup && host.ttyGid !== null ? { gid: host.ttyGid } : {}),
    hostname: options.hostname ?? null,
    net: net.namespace,
  });
  const plan: Plan = {
    version: PLAN_VERSION,
    namespaces: spec.namespaces,
    identity: spec.identity,
    hostname: spec.hostname,
    network: net.network,
    mounts: [...fs.mounts, ...net.mounts],
    process: {
      argv: options.command,
      cwd: fs.cwd,
      env: options.env,
      rlimits: [],
      timeout: options.timeout ?? null,
      onInterrupt: options.interruptTerminates ? "terminate" : "forward",
      graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
    },
    // pasta mode: the runtime attaches pasta and the firewall before the command starts.
    waitForRelease: net.needsHook,
  };
  return { plan: validatePlan(plan), notices: fs.notices };
}
