// Shared vitest preset. The "@ms/source" condition makes workspace imports
// resolve to src/, so tests never wait for a build.
import { defaultServerConditions } from "vite";
import { defineProject, mergeConfig } from "vitest/config";

const conditions = ["@ms/source", ...defaultServerConditions];

export const preset = defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    restoreMocks: true,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

/**
 * Preset plus per-package overrides (e.g. `test.name`).
 * @param {import("vitest/config").UserWorkspaceConfig} [overrides]
 */
export function definePackageTestConfig(overrides = {}) {
  return mergeConfig(preset, overrides);
}

export default preset;
