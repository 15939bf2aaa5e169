export type { ReadOnlyModeOptions } from "./_read-only.js";
export { baseSystemMounts, readOnlyModeMounts } from "./_read-only.js";
