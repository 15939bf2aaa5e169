// The one bundler preset for every package. tsup is no longer maintained;
// moving to tsdown later should mean changing this file only.
import { defineConfig } from "tsup";

/** @type {import("tsup").Options} */
const base = {
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  target: "node20",
  platform: "node",
  clean: true,
  sourcemap: false,
  splitting: false,
  treeshake: true,
};

/**
 * Shared tsup preset: ESM only, declarations, Node 20 target.
 * Anything bundled (`noExternal`) is resolved through the `@ms/source`
 * condition, i.e. from the workspace package's src/.
 *
 * @param {import("tsup").Options} [overrides]
 */
export function definePackageConfig(overrides = {}) {
  const { esbuildOptions, ...rest } = overrides;
  return defineConfig({
    ...base,
    ...rest,
    esbuildOptions(options, context) {
      options.conditions = ["@ms/source", ...(options.conditions ?? [])];
      if (typeof esbuildOptions === "function") esbuildOptions(options, context);
    },
  });
}
