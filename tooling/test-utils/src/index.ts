// Test helpers shared by every package's tests (private, source-only).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { afterEach } from "vitest";

export interface TestDir {
  /** Absolute path of the temporary directory. */
  path: string;
  /** Removes the directory now; also done automatically in afterEach. */
  cleanup: () => void;
}

const pending = new Set<() => void>();

afterEach(() => {
  for (const cleanup of pending) cleanup();
  pending.clear();
});

/**
 * Materialises an object literal into a fresh temporary directory:
 * keys are relative file paths, values are file contents. A key ending
 * in "/" creates an empty directory.
 *
 * @example testdir({ "rootfs/etc/passwd": "root:x:0:0::/root:/bin/sh\n" })
 */
export function testdir(files: Record<string, string> = {}): TestDir {
  const path = mkdtempSync(join(tmpdir(), "ms-test-"));
  for (const [name, content] of Object.entries(files)) {
    const rel = normalize(name);
    if (isAbsolute(rel) || rel === ".." || rel.startsWith(`..${sep}`)) {
      throw new Error(`testdir: path must stay inside the directory: ${name}`);
    }
    const target = join(path, rel);
    if (name.endsWith("/")) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  const cleanup = () => {
    pending.delete(cleanup);
    rmSync(path, { recursive: true, force: true });
  };
  pending.add(cleanup);
  return { path, cleanup };
}

/**
 * True when the environment demands that kernel-dependent tests run
 * (MS_MUST_WORK=1, set in test-vm CI): a would-be skip must then fail.
 */
export function mustWork(): boolean {
  return process.env.MS_MUST_WORK === "1";
}
export type { PlanFixtureOptions } from "./plan.js";
export { planFixture } from "./plan.js";
