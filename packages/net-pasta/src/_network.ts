import type { MountStep, NetworkSpec } from "@ms/plan";
import { DNS_STUB } from "./_firewall.js";
import type { Rule } from "./_rules.js";

/** `loopback` (default): own namespace, lo up. `none`: lo down (-n). `host`: no isolation (-N). */
export type NetworkMode = "loopback" | "none" | "host";

/** pasta mode: connectivity through pasta, limited to what `rules` allow (-F, --allow). */
export interface PastaNetwork {
  rules: readonly Rule[];
}

export interface NetworkPlan {
  /** Whether the sandbox gets its own network namespace. */
  namespace: boolean;
  network: NetworkSpec;
  /** Mount steps the network needs (pasta mode: /etc/resolv.conf naming our DNS service). */
  mounts: MountStep[];
  /** The runtime must run a hook (pasta, firewall, DNS) before the command starts. */
  needsHook: boolean;
}

/** The resolv.conf of pasta mode: the only resolver is our filtering DNS service. */
export const PASTA_RESOLV_CONF = `# mini-sandbox: DNS goes to its filtering service (pasta mode)\nnameserver ${DNS_STUB.address}\noptions timeout:2 attempts:2\n`;

/** The network part of a plan. Pure. */
export function networkPlan(mode: NetworkMode | PastaNetwork): NetworkPlan {
  if (typeof mode === "object")
    return {
      namespace: true,
      network: { mode: "pasta", rules: mode.rules.map((r) => r.text) },
      mounts: [
        { type: "file", target: "/etc/resolv.conf", content: PASTA_RESOLV_CONF, mode: 0o644 },
      ],
      needsHook: true,
    };
  switch (mode) {
    case "host":
      return { namespace: false, network: { mode: "host" }, mounts: [], needsHook: false };
    case "none":
      return {
        namespace: true,
        network: { mode: "none", loopback: false },
        mounts: [],
        needsHook: false,
      };
    case "loopback":
      return {
        namespace: true,
        network: { mode: "none", loopback: true },
        mounts: [],
        needsHook: false,
      };
  }
}
