// Shared by the plan's own tests and, through @ms/test-utils, by every other package's.
import { type MountStep, PLAN_VERSION, type Plan } from "../src/index.js";

export interface PlanFixtureOptions {
  mounts?: MountStep[];
  argv?: string[];
  cwd?: string;
  uid?: number;
  gid?: number;
}

/**
 * A complete, valid plan (all namespaces but uts, loopback up, no timeout)
 * around the given mounts and command; tests change what they test.
 */
export function planFixture(options: PlanFixtureOptions = {}): Plan {
  return {
    version: PLAN_VERSION,
    namespaces: {
      user: true,
      mount: true,
      pid: true,
      ipc: true,
      uts: false,
      net: true,
      cgroup: true,
    },
    identity: { uid: options.uid ?? 1000, gid: options.gid ?? 1000 },
    hostname: null,
    network: { mode: "none", loopback: true },
    mounts: options.mounts ?? [],
    process: {
      argv: options.argv ?? ["true"],
      cwd: options.cwd ?? "/",
      env: {},
      rlimits: [],
      timeout: null,
      onInterrupt: "forward",
      graceMs: 0,
    },
    waitForRelease: false,
  };
}
