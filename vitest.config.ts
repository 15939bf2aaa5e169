import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { preset } from "@ms/vitest-config";
import { defineConfig, mergeConfig, type TestProjectConfiguration } from "vitest/config";

// Every workspace folder is one vitest project. A folder with its own
// vitest.config.ts uses it; any other folder inherits this root config
// (the shared preset) through `extends: true`.
const groups = ["packages", "apps", "tests", "tooling"];

const projects: TestProjectConfiguration[] = groups.flatMap((group) =>
  existsSync(group)
    ? readdirSync(group, { withFileTypes: true })
        .filter(
          (entry) => entry.isDirectory() && existsSync(join(group, entry.name, "package.json")),
        )
        .map((entry): TestProjectConfiguration => {
          const dir = join(group, entry.name);
          const config = join(dir, "vitest.config.ts");
          return existsSync(config)
            ? config
            : { extends: true, test: { name: entry.name, root: dir } };
        })
    : [],
);

export default mergeConfig(preset, defineConfig({ test: { projects } }));
