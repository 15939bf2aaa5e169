export type { IdentityMode, NamespaceOptions, NamespaceSpec } from "./_spec.js";
export { namespaceSpec } from "./_spec.js";
