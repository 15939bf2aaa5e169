import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { mustWork, testdir } from "./index.js";

describe("testdir", () => {
  let previous: string | undefined;

  it("writes nested files and empty directories", () => {
    const dir = testdir({ "rootfs/etc/passwd": "root:x:0:0\n", "empty/": "" });
    expect(readFileSync(join(dir.path, "rootfs/etc/passwd"), "utf8")).toBe("root:x:0:0\n");
    expect(statSync(join(dir.path, "empty")).isDirectory()).toBe(true);
    previous = dir.path;
  });

  it("removed the previous test's directory in afterEach", () => {
    expect(previous).toBeDefined();
    expect(existsSync(previous as string)).toBe(false);
  });

  it("rejects paths escaping the directory", () => {
    expect(() => testdir({ "../escape": "x" })).toThrow(/inside the directory/);
  });

  it("cleanup() removes the directory at once", () => {
    const dir = testdir({ a: "1" });
    dir.cleanup();
    expect(existsSync(dir.path)).toBe(false);
  });
});

describe("mustWork", () => {
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it("is true only for MS_MUST_WORK=1", () => {
    vi.stubEnv("MS_MUST_WORK", "1");
    expect(mustWork()).toBe(true);
    vi.stubEnv("MS_MUST_WORK", "0");
    expect(mustWork()).toBe(false);
  });
});
