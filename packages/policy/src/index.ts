export type { HostFacts, SandboxOptions } from "./_build.js";
export { buildPlan, DEFAULT_GRACE_MS } from "./_build.js";
