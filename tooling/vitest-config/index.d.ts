import type { UserWorkspaceConfig } from "vitest/config";

export declare const preset: UserWorkspaceConfig;
export declare function definePackageTestConfig(
  overrides?: UserWorkspaceConfig,
): UserWorkspaceConfig;
export default preset;
