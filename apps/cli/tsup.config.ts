import { copyFileSync, readFileSync } from "node:fs";
import { definePackageConfig } from "@ms/tsup-config";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };

// One self-contained ESM file for fast start-up: every @ms/* package is
// inlined. The native executor is copied next to it, where the runtime
// looks first. The banner gives bundled CommonJS code a real `require`.
export default definePackageConfig({
  entry: { cli: "src/cli.ts" },
  dts: false,
  noExternal: [/^@ms\//],
  define: { __MS_VERSION__: JSON.stringify(version) },
  banner: {
    js: 'import { createRequire as __msCreateRequire } from "node:module";\nconst require = __msCreateRequire(import.meta.url);',
  },
  onSuccess: async () => {
    copyFileSync(
      new URL("../../packages/namespaces/native/build/ms-executor", import.meta.url),
      new URL("./dist/ms-executor", import.meta.url),
    );
  },
});
