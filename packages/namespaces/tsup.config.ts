import { definePackageConfig } from "@ms/tsup-config";

export default definePackageConfig({ entry: ["src/index.ts", "src/runtime.ts", "src/probe.ts"] });
