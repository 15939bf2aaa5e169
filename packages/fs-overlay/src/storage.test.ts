import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { testdir } from "@ms/test-utils";
import { describe, expect, it } from "vitest";
import {
  collectChanges,
  createRunDir,
  keepChanges,
  overlayAreas,
  plannedRunDir,
  prepareOverlayDirs,
  processStartTime,
  removeRunDir,
  storageBase,
  sweepStale,
} from "./storage.js";

function whiteout(path: string): void {
  const r = spawnSync("mknod", [path, "c", "0", "0"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mknod ${path}: ${r.stderr}`);
}

describe("per-run directories", () => {
  it("are private (0700), unpredictable, and carry the owner's pid and start time", () => {
    const base = testdir().path;
    const a = createRunDir(base);
    const b = createRunDir(base);
    expect(a).not.toBe(b);
    expect(statSync(a).mode & 0o777).toBe(0o700);
    expect(a).toMatch(
      new RegExp(`/mini-sandbox-${process.pid}-${processStartTime(process.pid)}-[A-Za-z0-9]{6}$`),
    );
    expect(plannedRunDir(base)).toBe(`${base}/mini-sandbox-${process.pid}-0-XXXXXX`);
  });

  it("prefer a private $XDG_RUNTIME_DIR, else the system temporary directory", () => {
    const xdg = testdir().path;
    chmodSync(xdg, 0o700);
    expect(storageBase({ XDG_RUNTIME_DIR: xdg })).toBe(xdg);
    chmodSync(xdg, 0o755); // readable by others: not private, not used
    expect(storageBase({ XDG_RUNTIME_DIR: xdg })).not.toBe(xdg);
    expect(storageBase({})).toBe(storageBase({ XDG_RUNTIME_DIR: "relative" }));
  });

  it("are removed even with what overlayfs leaves (a mode-000 work dir, unreadable dirs)", () => {
    const run = createRunDir(testdir().path);
    mkdirSync(`${run}/0/work/work/inner`, { recursive: true });
    writeFileSync(`${run}/0/work/work/inner/f`, "x");
    chmodSync(`${run}/0/work/work/inner`, 0);
    chmodSync(`${run}/0/work/work`, 0);
    removeRunDir(run);
    expect(existsSync(run)).toBe(false);
  });

  it("left behind by a dead run are swept; a live run's are kept", async () => {
    const base = testdir().path;
    // A live process other than us, and the name a run of it would use.
    const child = spawn("sleep", ["30"]);
    await new Promise((r) => child.on("spawn", r));
    const pid = child.pid as number;
    const live = `${base}/mini-sandbox-${pid}-${processStartTime(pid)}-abcdef`;
    // A pid that surely is not running (pid_max is at most 2^22).
    const dead = `${base}/mini-sandbox-9999999-12345-ghijkl`;
    // Same pid, other start time: the pid was reused, the run is dead.
    const reused = `${base}/mini-sandbox-${pid}-1-mnopqr`;
    const unrelated = `${base}/mini-sandbox-notes`;
    for (const d of [live, dead, reused, unrelated])
      mkdirSync(`${d}/0/work/work`, { recursive: true });
    chmodSync(`${dead}/0/work/work`, 0);
    try {
      const removed = sweepStale(base);
      expect(removed.sort()).toEqual([dead, reused].sort());
      expect(existsSync(live)).toBe(true);
      expect(existsSync(unrelated)).toBe(true);
    } finally {
      child.kill();
    }
  });
});

describe("overlay directories and the change report", () => {
  function fixture() {
    const dir = testdir({
      "lower/keep.txt": "same\n",
      "lower/edit.txt": "old\n",
      "lower/gone.txt": "bye\n",
      "lower/olddir/a": "a\n",
      "lower/redo/x": "x\n",
      "lower/redo/y": "y\n",
      "lower/sub/deep/f": "f\n",
    }).path;
    const run = createRunDir(dir);
    const mounts = [
      {
        type: "overlay" as const,
        target: "/etc",
        lower: [`${dir}/lower`],
        upper: `${run}/0/upper`,
        work: `${run}/0/work`,
      },
      {
        type: "overlay" as const,
        target: "/elsewhere",
        lower: ["/x"],
        upper: "/not/ours/upper",
        work: "/not/ours/work",
      },
    ];
    const areas = overlayAreas(mounts, run);
    return { dir, run, areas };
  }

  it("prepares upper/work dirs only for overlays stored in the run dir, with the caller's rights on the lower", () => {
    const { dir, run, areas } = fixture();
    expect(areas.map((a) => a.target)).toEqual(["/etc"]);
    chmodSync(`${dir}/lower`, 0o750);
    prepareOverlayDirs(areas);
    expect(statSync(`${run}/0/work`).mode & 0o777).toBe(0o700);
    // Owned by the caller: owner bits are the caller's bits on the lower (here: its owner).
    expect(statSync(`${run}/0/upper`).mode & 0o777).toBe(0o750);
  });

  it("lists created, modified and deleted paths, including whiteouts and opaque directories", () => {
    const { run, areas } = fixture();
    prepareOverlayDirs(areas);
    const up = `${run}/0/upper`;
    writeFileSync(`${up}/edit.txt`, "new\n");
    writeFileSync(`${up}/new.txt`, "n\n");
    whiteout(`${up}/gone.txt`);
    whiteout(`${up}/olddir`);
    mkdirSync(`${up}/made/inner`, { recursive: true });
    writeFileSync(`${up}/made/inner/f`, "");
    mkdirSync(`${up}/redo`);
    writeFileSync(`${up}/redo/y`, "new y\n");
    mkdirSync(`${up}/sub/deep`, { recursive: true });
    writeFileSync(`${up}/sub/deep/g`, "");
    const asked: string[][] = [];
    const changes = collectChanges(areas, (dirs) => {
      asked.push(dirs);
      return new Set([`${up}/redo`]);
    });
    expect(changes).toEqual([
      { path: "/etc/edit.txt", change: "modified", type: "file" },
      { path: "/etc/gone.txt", change: "deleted", type: "file" },
      { path: "/etc/made", change: "created", type: "dir" },
      { path: "/etc/made/inner", change: "created", type: "dir" },
      { path: "/etc/made/inner/f", change: "created", type: "file" },
      { path: "/etc/new.txt", change: "created", type: "file" },
      { path: "/etc/olddir", change: "deleted", type: "dir" },
      { path: "/etc/redo/x", change: "deleted", type: "file" },
      { path: "/etc/redo/y", change: "created", type: "file" },
      { path: "/etc/sub/deep/g", change: "created", type: "file" },
    ]);
    // Only directories that exist in both layers can be opaque; only those are asked about.
    expect(asked.map((dirs) => [...dirs].sort())).toEqual([
      [`${up}/redo`, `${up}/sub`, `${up}/sub/deep`],
    ]);
  });

  it("keeps the upper directories in DIR, whiteouts included", () => {
    const { dir, run, areas } = fixture();
    prepareOverlayDirs(areas);
    writeFileSync(`${run}/0/upper/new.txt`, "n\n");
    whiteout(`${run}/0/upper/gone.txt`);
    const kept = keepChanges(areas, `${dir}/kept`);
    expect(kept).toEqual([`${dir}/kept/etc`]);
    expect(readFileSync(`${dir}/kept/etc/new.txt`, "utf8")).toBe("n\n");
    expect(lstatSync(`${dir}/kept/etc/gone.txt`).isCharacterDevice()).toBe(true);
    expect(existsSync(`${run}/0/upper`)).toBe(false);
    expect(readdirSync(`${dir}/kept`)).toEqual(["etc"]);
  });
});
