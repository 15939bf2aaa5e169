export { networkPlan } from "./_network.js";
export type { NetworkMode, NetworkPlan } from "./_network.js";
