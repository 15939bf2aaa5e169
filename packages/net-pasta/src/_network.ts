import type { NetworkSpec } from "@ms/plan";

/** `loopback` (default): own namespace, lo up. `none`: lo down (-n). `host`: no isolation (-N). */
export type NetworkMode = "loopback" | "none" | "host";

export interface NetworkPlan {
  /** Whether the sandbox gets its own network namespace. */
  namespace: boolean;
  network: NetworkSpec;
}

/** The network part of a plan. Pure. */
export function networkPlan(mode: NetworkMode): NetworkPlan {
  switch (mode) {
    case "host":
      return { namespace: false, network: { mode: "host" } };
    case "none":
      return { namespace: true, network: { mode: "none", loopback: false } };
    case "loopback":
      return { namespace: true, network: { mode: "none", loopback: true } };
  }
}
