import { definePackageConfig } from "@ms/tsup-config";

// One self-contained ESM file for fast start-up: every @ms/* package and execa
// (with its CommonJS dependencies) are inlined. The banner gives that CJS code
// a real `require` for Node built-ins, which ESM output otherwise lacks.
export default definePackageConfig({
  entry: { cli: "src/cli.ts" },
  dts: false,
  noExternal: [/^@ms\//, "execa"],
  banner: {
    js: 'import { createRequire as __msCreateRequire } from "node:module";\nconst require = __msCreateRequire(import.meta.url);',
  },
});
