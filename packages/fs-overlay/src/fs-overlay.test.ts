import { encodePlan, type MountStep, type Plan, validatePlan } from "@ms/plan";
import { planFixture } from "@ms/test-utils";
import { describe, expect, it } from "vitest";
import * as api from "./index.js";
import {
  customModeMounts,
  defaultModeMounts,
  describeMounts,
  type FsHostFacts,
  parseMountInfo,
  parsePasswdHomes,
  readOnlyModeMounts,
  resolvePath,
} from "./index.js";

const host: FsHostFacts = {
  root: [
    { name: "bin", type: "symlink", linkTo: "usr/bin" },
    { name: "lib", type: "symlink", linkTo: "usr/lib" },
    { name: "lib64", type: "dir" },
    { name: "usr", type: "dir" },
    { name: "etc", type: "dir" },
    { name: "var", type: "dir" },
    { name: "opt", type: "dir" },
    { name: "home", type: "dir" },
    { name: "root", type: "dir" },
    { name: "srv", type: "dir" },
    { name: "net", type: "dir" },
    { name: "tmp", type: "dir" },
    { name: "run", type: "dir" },
    { name: "proc", type: "dir" },
    { name: "sys", type: "dir" },
    { name: "dev", type: "dir" },
    { name: ".dockerenv", type: "file" },
  ],
  mounts: [
    { target: "/", fsType: "ext4" },
    { target: "/net", fsType: "autofs" },
    { target: "/srv/data", fsType: "autofs" },
    { target: "/home/alice/proj/cache", fsType: "tmpfs" },
    { target: "/tmp/x", fsType: "tmpfs" },
  ],
  homes: ["/root", "/home/alice", "/home/bob", "/srv/carol", "/nonexistent", "/"],
  privateVarDirs: ["/var/tmp"],
};

const H = "/home/alice";
const C = "/home/alice/proj/sub";
const S = "/run/user/1000/ms-run";

function layout(over: Partial<Parameters<typeof defaultModeMounts>[0]> = {}) {
  return defaultModeMounts({ cwd: C, home: H, storage: S, host, ...over });
}

const at = (mounts: MountStep[], target: string) => mounts.filter((m) => m.target === target);
const indexOf = (mounts: MountStep[], target: string, type?: string) =>
  mounts.findIndex((m) => m.target === target && (!type || m.type === type));

/** A complete plan around some mounts, to prove the wire encoder accepts them. */
function planOf(mounts: MountStep[], cwd: string): Plan {
  return validatePlan(planFixture({ mounts, cwd }));
}

describe("@ms/fs-overlay exports", () => {
  it("exports exactly the public builders", () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        "baseSystemMounts",
        "customModeMounts",
        "defaultModeMounts",
        "describeMounts",
        "formatMountTable",
        "isBelow",
        "isOverlayDir",
        "isWithin",
        "parseMountInfo",
        "parsePasswdHomes",
        "readOnlyModeMounts",
        "resolvePath",
        "unescapeMountPath",
      ].sort(),
    );
  });
});

describe("default mode (-x)", () => {
  it("overlays the system directories, with upper/work in the storage dir, and keeps top-level symlinks", () => {
    const { mounts } = layout();
    for (const dir of ["/usr", "/etc", "/var", "/opt", "/lib64"]) {
      const [step] = at(mounts, dir);
      expect(step).toMatchObject({ type: "overlay", lower: [dir] });
      expect((step as { upper: string }).upper.startsWith(`${S}/`)).toBe(true);
    }
    const uppers = mounts.flatMap((m) => (m.type === "overlay" ? [m.upper, m.work] : []));
    expect(new Set(uppers).size).toBe(uppers.length);
    expect(at(mounts, "/bin")).toEqual([{ type: "symlink", target: "/bin", linkTo: "usr/bin" }]);
    expect(at(mounts, "/lib")).toEqual([{ type: "symlink", target: "/lib", linkTo: "usr/lib" }]);
  });

  it("binds everything else at the top level read-only (files too), and /sys read-only", () => {
    const { mounts } = layout();
    expect(at(mounts, "/srv")).toEqual([
      { type: "bind", source: "/srv", target: "/srv", readOnly: true },
    ]);
    expect(at(mounts, "/.dockerenv")).toEqual([
      { type: "bind", source: "/.dockerenv", target: "/.dockerenv", readOnly: true },
    ]);
    expect(at(mounts, "/sys")).toEqual([
      { type: "bind", source: "/sys", target: "/sys", readOnly: true },
    ]);
    // Nothing writable but C.
    const writable = mounts.filter((m) => m.type === "bind" && !m.readOnly);
    expect(writable).toEqual([{ type: "bind", source: C, target: C, readOnly: false }]);
  });

  it("hides the home: /home and /root empty, H a private tmpfs, only the path down to C visible", () => {
    const { mounts, cwd, notices } = layout();
    expect(cwd).toBe(C);
    expect(notices).toEqual([]);
    expect(at(mounts, "/home")).toEqual([{ type: "mkdir", target: "/home", mode: 0o755 }]);
    expect(at(mounts, "/root")).toEqual([{ type: "mkdir", target: "/root", mode: 0o755 }]);
    expect(at(mounts, H)).toEqual([{ type: "tmpfs", target: H, mode: 0o755, sizeBytes: 0 }]);
    expect(at(mounts, "/home/alice/proj")).toEqual([
      { type: "bind", source: "/home/alice/proj", target: "/home/alice/proj", readOnly: true },
    ]);
    // No step takes anything else from the host's /home.
    const fromHome = mounts.filter((m) => m.type === "bind" && m.source.startsWith("/home"));
    expect(fromHome.map((m) => m.target)).toEqual(["/home/alice/proj", C]);
    // Parents mount before children; the skeleton is sealed last.
    expect(indexOf(mounts, H)).toBeLessThan(indexOf(mounts, "/home/alice/proj"));
    expect(indexOf(mounts, "/home/alice/proj")).toBeLessThan(indexOf(mounts, C));
    expect(mounts.at(-1)).toEqual({ type: "remount-ro", target: "/", recursive: false });
  });

  it("with C == H shares nothing of the home and says so", () => {
    const { mounts, cwd, notices } = layout({ cwd: H });
    expect(cwd).toBe(H);
    expect(notices[0]).toMatch(/does not share it.*-w \/home\/alice/);
    expect(mounts.filter((m) => m.type === "bind" && !m.readOnly)).toEqual([]);
    expect(at(mounts, H)).toEqual([{ type: "tmpfs", target: H, mode: 0o755, sizeBytes: 0 }]);
  });

  it("shares C outside the home with its parents only where they are visible anyway", () => {
    const inTmp = layout({ cwd: "/tmp/t/wd" }).mounts;
    expect(inTmp.filter((m) => m.type === "bind" && m.source.startsWith("/tmp"))).toEqual([
      { type: "bind", source: "/tmp/t/wd", target: "/tmp/t/wd", readOnly: false },
    ]);
    const inOther = layout({ cwd: "/home/bob/x" }).mounts;
    expect(inOther.filter((m) => m.type === "bind" && m.source.startsWith("/home"))).toEqual([
      { type: "bind", source: "/home/bob/x", target: "/home/bob/x", readOnly: false },
    ]);
  });

  it("refuses a working directory that contains the home or the hidden homes", () => {
    expect(() => layout({ cwd: "/home" })).toThrow(/contains your home directory/);
    expect(() => layout({ cwd: "/" })).toThrow(/whole host would be writable/);
    expect(() => layout({ cwd: "/home", home: "/root" })).toThrow(/contains \/home/);
  });

  it("hides other users' homes wherever they are, without creating missing ones", () => {
    const { mounts } = layout();
    expect(at(mounts, "/srv/carol")).toEqual([{ type: "hide", target: "/srv/carol" }]);
    expect(mounts.some((m) => m.target === "/nonexistent")).toBe(false);
    // C inside such a home: the home becomes an empty tmpfs that holds C, sealed at the end.
    const inside = layout({ cwd: "/srv/carol/p" }).mounts;
    expect(at(inside, "/srv/carol")[0]).toMatchObject({ type: "tmpfs" });
    expect(inside).toContainEqual({ type: "remount-ro", target: "/srv/carol", recursive: false });
    expect(indexOf(inside, "/srv/carol")).toBeLessThan(indexOf(inside, "/srv/carol/p"));
  });

  it("hides a home below a non-top-level parent (e.g. /var/home) with an empty tmpfs", () => {
    const { mounts } = layout({ home: "/var/home/alice", cwd: "/var/home/alice/p" });
    expect(at(mounts, "/var/home")[0]).toMatchObject({ type: "tmpfs" });
    expect(mounts).toContainEqual({ type: "remount-ro", target: "/var/home", recursive: false });
    expect(indexOf(mounts, "/var", "overlay")).toBeLessThan(indexOf(mounts, "/var/home"));
  });

  it("makes /tmp, /var/tmp, /run and $XDG_RUNTIME_DIR private, with minimal /dev and a fresh /proc", () => {
    const { mounts } = layout({ runtimeDir: "/run/user/1000" });
    expect(at(mounts, "/tmp")[0]).toMatchObject({ type: "tmpfs", mode: 0o1777 });
    expect(at(mounts, "/var/tmp")[0]).toMatchObject({ type: "tmpfs", mode: 0o1777 });
    expect(at(mounts, "/run")[0]).toMatchObject({ type: "tmpfs" });
    expect(at(mounts, "/run/user/1000")[0]).toMatchObject({ type: "tmpfs", mode: 0o700 });
    expect(at(mounts, "/dev")).toEqual([{ type: "dev", target: "/dev" }]);
    expect(at(mounts, "/proc")).toEqual([{ type: "proc", target: "/proc" }]);
    expect(
      mounts.filter((m) => m.type === "bind" && (m.source === "/tmp" || m.source === "/run")),
    ).toEqual([]);
  });

  it("binds host mounts along with their top-level directory, autofs ones untouched and never looked into", () => {
    const { mounts } = layout();
    // /net (autofs) is bound as a whole, like any other top-level directory; /srv/data rides
    // along inside /srv; mounts below C, the home or /tmp get no step of their own.
    for (const t of ["/srv/data", "/home/alice/proj/cache", "/tmp/x"])
      expect(at(mounts, t)).toEqual([]);
    expect(at(mounts, "/net")).toEqual([
      { type: "bind", source: "/net", target: "/net", readOnly: true },
    ]);
  });

  it("falls back, visibly, to a read-only bind where host mounts below an area rule out an overlay", () => {
    const withMounts: FsHostFacts = {
      ...host,
      mounts: [
        ...host.mounts,
        { target: "/etc/resolv.conf", fsType: "ext4" },
        { target: "/srv/tools/nfs", fsType: "nfs" },
      ],
    };
    const { mounts, notices } = layout({
      host: withMounts,
      mounts: [{ type: "overlay", source: "/srv/tools", target: "/srv/tools" }],
    });
    expect(at(mounts, "/etc")).toEqual([
      { type: "bind", source: "/etc", target: "/etc", readOnly: true },
    ]);
    expect(at(mounts, "/usr")[0]).toMatchObject({ type: "overlay" });
    expect(at(mounts, "/srv/tools")).toEqual([
      { type: "bind", source: "/srv/tools", target: "/srv/tools", readOnly: true },
    ]);
    expect(notices).toEqual([
      expect.stringMatching(
        /^\/etc is read-only instead of an overlay: host mounts below it \(\/etc\/resolv.conf\)/,
      ),
      expect.stringMatching(/^-k \/srv\/tools is read-only instead of an overlay/),
    ]);
  });

  it("adds -M/-m/-w/-e/-k after the base, parents first, each -k with its own storage", () => {
    const { mounts } = layout({
      mounts: [
        { type: "overlay", source: "/srv/tools", target: "/srv/tools" },
        {
          type: "read-only",
          source: "/home/alice/.gitconfig-real",
          target: "/home/alice/.gitconfig",
        },
        { type: "writable", source: "/home/alice/proj", target: "/home/alice/proj" },
        { type: "tmpfs", target: "/home/alice/proj/sub/node_modules" },
      ],
    });
    const ovl = at(mounts, "/srv/tools")[0] as { upper: string; lower: string[] };
    expect(ovl.lower).toEqual(["/srv/tools"]);
    expect(ovl.upper.startsWith(`${S}/`)).toBe(true);
    const proj = at(mounts, "/home/alice/proj");
    expect(proj.map((m) => (m as { readOnly: boolean }).readOnly)).toEqual([true, false]);
    expect(indexOf(mounts, H)).toBeLessThan(indexOf(mounts, "/home/alice/.gitconfig"));
    expect(indexOf(mounts, C)).toBeLessThan(indexOf(mounts, "/home/alice/proj/sub/node_modules"));
  });

  it("produces a plan the validator and wire encoder accept, odd paths included", () => {
    const odd = "/home/alice/a b,c:d\ne/wd";
    const { mounts, cwd } = layout({ cwd: odd });
    const wire = encodePlan(planOf(mounts, cwd));
    expect(wire.split("\0").filter((t) => t === odd)).toHaveLength(3); // source, target, chdir
    expect(wire).toContain("\0remount-ro\0/\0top\0");
  });
});

describe("custom and hermetic modes (-o, -h)", () => {
  it("builds the root in the per-run directory with only what is asked, plus C, /proc, /dev, /tmp", () => {
    const { mounts, cwd } = customModeMounts({
      cwd: "/w/p",
      root: "/r/mini-sandbox-1-2-abcdef",
      storage: "/s/run",
      mounts: [
        { type: "read-only", source: "/usr", target: "/usr" },
        { type: "overlay", source: "/etc", target: "/etc" },
      ],
      hostRoot: host.root,
    });
    expect(cwd).toBe("/w/p");
    expect(mounts[0]).toEqual({
      type: "bind",
      source: "/r/mini-sandbox-1-2-abcdef",
      target: "/",
      readOnly: false,
    });
    expect(mounts.map((m) => m.target).sort()).toEqual(
      ["/", "/bin", "/dev", "/etc", "/lib", "/proc", "/tmp", "/usr", "/w/p"].sort(),
    );
    expect(at(mounts, "/etc")[0]).toMatchObject({ type: "overlay", upper: "/s/run/0/upper" });
    // Without /usr mounted the merged-/usr links are not made.
    const bare = customModeMounts({
      cwd: "/w/p",
      root: "/r/x",
      storage: null,
      hostRoot: host.root,
    });
    expect(bare.mounts.some((m) => m.type === "symlink")).toBe(false);
    expect(() =>
      customModeMounts({
        cwd: "/w",
        root: "/r/x",
        storage: null,
        mounts: [{ type: "overlay", source: "/etc", target: "/etc" }],
      }),
    ).toThrow(/needs a storage directory/);
  });
});

describe("read-only mode", () => {
  it("adds explicit mounts after the base, parents first", () => {
    const mounts = readOnlyModeMounts({
      cwd: "/w/p",
      mounts: [
        { type: "tmpfs", target: "/w/p/cache" },
        { type: "writable", source: "/data/out", target: "/data/out" },
      ],
    });
    expect(mounts[0]).toEqual({ type: "bind", source: "/", target: "/", readOnly: true });
    expect(mounts.slice(-3).map((m) => m.target)).toEqual(["/w/p", "/data/out", "/w/p/cache"]);
  });
});

describe("explain rows", () => {
  it("names each path's kind: overlay, read-only, writable, tmpfs, hidden", () => {
    const rows = describeMounts(layout().mounts);
    const kind = (p: string) => rows.filter((r) => r.path === p).map((r) => r.kind);
    expect(kind("/usr")).toEqual(["overlay"]);
    expect(kind("/srv")).toEqual(["read-only"]);
    expect(kind(C)).toEqual(["writable"]);
    expect(kind("/tmp")).toEqual(["tmpfs"]);
    expect(kind("/home")).toEqual(["hidden"]);
    expect(kind("/srv/carol")).toEqual(["hidden"]);
    expect(rows.map((r) => r.path)).toEqual([...rows.map((r) => r.path)].sort());
  });
});

describe("host parsing", () => {
  it("reads mount points from mountinfo, unescaping odd characters", () => {
    const text = [
      "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
      "27 26 0:24 / /mnt/a\\040b\\012c rw shared:1 - tmpfs tmpfs rw",
      "28 26 0:25 / /net rw master:2 - autofs systemd-1 rw",
    ].join("\n");
    expect(parseMountInfo(text)).toEqual([
      { target: "/", fsType: "ext4" },
      { target: "/mnt/a b\nc", fsType: "tmpfs" },
      { target: "/net", fsType: "autofs" },
    ]);
  });

  it("takes the homes of root and regular users from passwd", () => {
    const text = [
      "root:x:0:0:root:/root:/bin/bash",
      "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
      "alice:x:1000:1000::/home/alice:/bin/bash",
      "broken line",
    ].join("\n");
    expect(parsePasswdHomes(text)).toEqual(["/root", "/home/alice"]);
  });

  it("resolves paths lexically", () => {
    expect(resolvePath("/w/p", "../x/./y//z")).toBe("/w/x/y/z");
    expect(resolvePath("/w", "/a/../../b")).toBe("/b");
  });
});
