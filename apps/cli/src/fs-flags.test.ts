import { mkdirSync, realpathSync, symlinkSync } from "node:fs";
import { testdir } from "@ms/test-utils";
import { describe, expect, it } from "vitest";
import { FLAGS, helpText, parseArgs } from "./_flags.js";
import { fsRequest, startFsRun } from "./_fs.js";
import { toSandboxOptions } from "./_options.js";

function project() {
  const root = realpathSync(
    testdir({
      "wd/src/a.txt": "a\n",
      "wd/file.txt": "f\n",
      "data/x": "x\n",
      "ovl/": "",
      "root/": "",
    }).path,
  );
  return { root, wd: `${root}/wd` };
}

const req = (args: string[], cwd: string) => fsRequest(parseArgs([...args, "true"]), cwd);

describe("filesystem flags", () => {
  it("are in the table and in --help; -h is the hermetic root, help is --help only", () => {
    for (const short of ["x", "o", "d", "k", "h", "M", "m", "w", "e"])
      expect(FLAGS.some((f) => f.short === short)).toBe(true);
    expect(FLAGS.find((f) => f.short === "h")?.value).toBe("ROOT");
    const help = helpText("1.0.0");
    for (const text of [
      "-x",
      "-o ROOT",
      "-h ROOT",
      "-M PATH",
      "-m DST",
      "--changes",
      "--keep-changes DIR",
      "explain",
    ])
      expect(help).toContain(text);
  });

  it("map to modes and mounts; relative paths start from the working directory", () => {
    const { root, wd } = project();
    expect(req([], wd).mode).toBe("read-only");
    expect(req(["-x"], wd).mode).toBe("default");
    expect(req(["-o", "../root"], wd)).toMatchObject({ mode: "custom", rootBase: `${root}/root` });
    expect(req(["-h", `${root}/root`], wd)).toMatchObject({
      mode: "hermetic",
      rootBase: `${root}/root`,
    });
    const r = req(
      ["-x", "-M", "src", "-w", "../data", "-e", "src", "-k", "../ovl", "-d", "../ovl"],
      wd,
    );
    expect(r.overlayBase).toBe(`${root}/ovl`);
    expect(r.mounts).toEqual([
      { type: "read-only", source: `${wd}/src`, target: `${wd}/src` },
      { type: "writable", source: `${root}/data`, target: `${root}/data` },
      { type: "tmpfs", target: `${wd}/src` },
      { type: "overlay", source: `${root}/ovl`, target: `${root}/ovl` },
    ]);
    expect(r.writable.map((w) => w.path)).toEqual([wd, `${root}/data`]);
  });

  it("pair -m with the -M just before it; the source is canonical, the target as written", () => {
    const { root, wd } = project();
    symlinkSync(`${root}/data`, `${wd}/link`);
    const r = req(["-M", "link", "-m", "/opt/data", "-M", "file.txt"], wd);
    expect(r.mounts).toEqual([
      { type: "read-only", source: `${root}/data`, target: "/opt/data" },
      { type: "read-only", source: `${wd}/file.txt`, target: `${wd}/file.txt` },
    ]);
    expect(() => req(["-m", "/x", "-M", "src"], wd)).toThrow(/-m \/x must follow -M SRC/);
  });

  it("refuse missing paths, naming them (exit 125)", () => {
    const { wd } = project();
    for (const flag of ["-M", "-w", "-e", "-k"]) {
      const args = flag === "-k" ? ["-x", flag, "nope"] : [flag, "nope"];
      try {
        req(args, wd);
        expect.unreachable(`${flag} accepted a missing path`);
      } catch (error) {
        expect((error as Error).message).toBe(`${flag} nope: ${wd}/nope does not exist`);
        expect((error as { exitCode: number }).exitCode).toBe(125);
      }
    }
    expect(() => req(["-o", "/no/such/root"], wd)).toThrow(
      /-o \/no\/such\/root: .* does not exist/,
    );
  });

  it("refuse conflicting modes and mode-less overlay flags, naming the flags", () => {
    const { root, wd } = project();
    expect(() => req(["-x", "-o", root], wd)).toThrow("-x and -o cannot be used together");
    expect(() => req(["-h", root, "-x"], wd)).toThrow("-x and -h cannot be used together");
    expect(() => req(["-h", root, "-k", "src"], wd)).toThrow("-h and -k cannot be used together");
    expect(() => req(["-k", "src"], wd)).toThrow("-k needs an overlay mode: -x or -o ROOT");
    expect(() => req(["--changes"], wd)).toThrow("--changes needs an overlay mode");
    expect(() => req(["-d", root], wd)).toThrow("-d needs an overlay mode");
    expect(() => req(["-M", "src", "-w", "src"], wd)).toThrow(/-M and -w both name/);
    expect(() => req(["-M", "/", "-m", "/"], wd)).toThrow(/cannot mount over \/ itself/);
  });

  it("--keep-changes wants a new or empty directory", () => {
    const { root, wd } = project();
    expect(req(["-x", "--keep-changes", "kept"], wd).keepChanges).toBe(`${wd}/kept`);
    expect(() => req(["-x", "--keep-changes", "src"], wd)).toThrow(/is not empty/);
    expect(() => req(["-x", "--keep-changes", "/no/such/parent/kept"], wd)).toThrow(
      /does not exist/,
    );
    mkdirSync(`${root}/empty`);
    expect(req(["-x", "--keep-changes", `${root}/empty`], wd).keepChanges).toBe(`${root}/empty`);
  });

  it("refuse overlay storage or a sandbox root inside a writable directory, naming both", () => {
    const { root, wd } = project();
    mkdirSync(`${wd}/store`);
    const opts = (args: string[]) =>
      toSandboxOptions(parseArgs([...args, "true"]), { cwd: wd, env: {}, ttyGid: null });
    const dry = (args: string[], env: Record<string, string> = {}) => {
      const o = opts(args);
      return startFsRun(o, o.fs, env, true);
    };
    expect(() => dry(["-x", "-d", "store"])).toThrow(
      `the overlay directory ${wd}/store (-d) is inside the working directory ${wd}, which the sandbox can write`,
    );
    expect(() => dry(["-x", "-w", root], { TMPDIR: root })).toThrow(
      /is inside -w .*, which the sandbox can write/,
    );
    expect(() => dry(["-o", "store"])).toThrow(
      /the sandbox root .* \(-o\) is inside the working directory/,
    );
    expect(() => dry(["-x", "-k", root, "-d", `${root}/ovl`])).toThrow(
      /inside .*which -k .* overlays/,
    );
    // Nothing is created for a printed plan; the placeholder names the storage.
    const run = dry(["-x"], { TMPDIR: `${root}/ovl` });
    expect(run.runDir).toMatch(new RegExp(`^${root}/ovl/mini-sandbox-\\d+-0-XXXXXX$`));
    expect(run.options.storage).toBe(run.runDir);
  });
});
