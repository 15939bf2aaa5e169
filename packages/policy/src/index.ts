export type { FsMode, HostFacts, SandboxOptions } from "./_build.js";
export { buildPlan, DEFAULT_GRACE_MS, planFilesystem, planSandbox } from "./_build.js";
