import { readOnlyModeMounts } from "@ms/fs-overlay";
import { type IdentityMode, namespaceSpec } from "@ms/namespaces";
import { type NetworkMode, networkPlan } from "@ms/net-pasta";
import { PLAN_VERSION, type Plan, type TimeoutSpec, validatePlan } from "@ms/plan";

/** Everything a frontend decides; the CLI's flags map onto these fields one to one. */
export interface SandboxOptions {
  command: string[];
  /** Working directory: physical, absolute; writable inside. */
  cwd: string;
  mode?: "read-only";
  identity?: IdentityMode;
  /** Run with the tty group as gid (-P). */
  ttyGroup?: boolean;
  /** A private hostname, `localhost` with -H. */
  hostname?: string | null;
  network?: NetworkMode;
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
}

export const DEFAULT_GRACE_MS = 2000;

/** Turns options into a validated plan by asking each feature package for its part. */
export function buildPlan(options: SandboxOptions, host: HostFacts): Plan {
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
    mounts: readOnlyModeMounts({ cwd: options.cwd }),
    process: {
      argv: options.command,
      cwd: options.cwd,
      env: options.env,
      rlimits: [],
      timeout: options.timeout ?? null,
      onInterrupt: options.interruptTerminates ? "terminate" : "forward",
      graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
    },
    waitForRelease: false,
  };
  return validatePlan(plan);
}
