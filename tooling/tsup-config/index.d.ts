import type { Options } from "tsup";

/** Shared tsup preset: ESM, dts, node20, clean, no sourcemaps, no splitting. */
export declare function definePackageConfig(overrides?: Options): Options;
