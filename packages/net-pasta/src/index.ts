export type { NetworkMode, NetworkPlan } from "./_network.js";
export { networkPlan } from "./_network.js";
