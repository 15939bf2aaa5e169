import { copyFileSync, readFileSync } from "node:fs";
import { definePackageConfig } from "@ms/tsup-config";

const { version } = JSON.parse(
  readFileSync(new URL("./package.json", import.meta.url), "utf8"),
) as { version: string };

// One self-contained CommonJS file for fast start-up: every @ms/* package is
// inlined, and Node 20 starts a CommonJS entry about 7 ms faster than an ES
// module (measured: `node e.cjs` vs `node e.mjs`). The native executor is
// copied next to it, where the runtime looks first.
export default definePackageConfig({
  entry: { cli: "src/cli.ts" },
  format: ["cjs"],
  // Code behind dynamic imports (pasta mode, doctor, explain) goes to chunks
  // loaded only when used: parsing them on every start costs ~15 ms.
  splitting: true,
  // ...loaded with require(), not import(): import() of a .cjs file starts
  // Node's ES module loader, which costs several ms on every run.
  esbuildOptions(options) {
    options.supported = { ...options.supported, "dynamic-import": false };
  },
  outExtension: () => ({ js: ".cjs" }),
  dts: false,
  // dns-packet (and its ip-codec) too: pasta mode's DNS service needs it, and
  // the bundle must not depend on where pnpm put it.
  noExternal: [/^@ms\//, /^dns-packet/, /^@leichtgewicht\/ip-codec/],
  define: { __MS_VERSION__: JSON.stringify(version), "import.meta.url": "__ms_module_url" },
  banner: { js: 'const __ms_module_url = require("node:url").pathToFileURL(__filename).href;' },
  onSuccess: async () => {
    copyFileSync(
      new URL("../../packages/namespaces/native/build/ms-executor", import.meta.url),
      new URL("./dist/ms-executor", import.meta.url),
    );
  },
});
