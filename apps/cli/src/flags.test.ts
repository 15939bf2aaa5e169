import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkConflicts, FLAGS, helpText, parseArgs } from "./_flags.js";

describe("flag parsing", () => {
  it("stops at the first non-option so the command keeps its own flags", () => {
    const p = parseArgs(["-H", "ls", "-la", "-R"]);
    expect(p.flags).toEqual({ hostname: true });
    expect(p.command).toEqual(["ls", "-la", "-R"]);
  });

  it("accepts -- and clustered short flags with values", () => {
    expect(parseArgs(["-HU", "--", "-weird"]).command).toEqual(["-weird"]);
    expect(parseArgs(["-T5", "x"]).flags.timeout).toBe("5");
    expect(parseArgs(["-HT", "5", "x"]).flags).toEqual({ hostname: true, timeout: "5" });
    expect(parseArgs(["--report=/r", "x"]).flags.report).toBe("/r");
  });

  it("does not depend on flag order", () => {
    expect(parseArgs(["-n", "-U", "x"]).flags).toEqual(parseArgs(["-U", "-n", "x"]).flags);
  });

  it("expands @ARGFILE one line per argument, recursively, never after the command", () => {
    const dir = mkdtempSync(join(tmpdir(), "ms-flags-"));
    writeFileSync(join(dir, "inner"), "-U\n");
    writeFileSync(join(dir, "outer"), `-W\n/a dir with spaces\n@${join(dir, "inner")}\n`);
    const p = parseArgs([`@${join(dir, "outer")}`, "echo", `@${join(dir, "inner")}`]);
    expect(p.flags).toEqual({ workdir: "/a dir with spaces", nobody: true });
    expect(p.command).toEqual(["echo", `@${join(dir, "inner")}`]);
    writeFileSync(join(dir, "loop"), `@${join(dir, "loop")}\n`);
    expect(() => parseArgs([`@${join(dir, "loop")}`, "x"])).toThrow(/too many nested/);
  });

  it("names the problem for unknown, repeated or valueless flags", () => {
    expect(() => parseArgs(["-Z", "x"])).toThrow(/unknown option -Z/);
    expect(() => parseArgs(["--nope", "x"])).toThrow(/unknown option --nope/);
    expect(() => parseArgs(["-W", "/a", "-W", "/b", "x"])).toThrow(/-W was given more than once/);
    expect(() => parseArgs(["-W"])).toThrow(/-W needs a value/);
  });

  it("reports conflicting flags by the names the user typed", () => {
    expect(() => checkConflicts(parseArgs(["-R", "-U", "x"]), [["root", "nobody"]])).toThrow(
      "-R and -U cannot be used together",
    );
  });

  it("documents every flag in --help", () => {
    const help = helpText("1.2.3");
    for (const f of FLAGS) expect(help).toContain(f.short ? `-${f.short}` : `--${f.long}`);
  });
});
