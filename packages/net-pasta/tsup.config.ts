import { definePackageConfig } from "@ms/tsup-config";

export default definePackageConfig({ entry: ["src/index.ts", "src/probe.ts", "src/runtime.ts"] });
