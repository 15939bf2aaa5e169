import { type MountStep, MsError } from "@ms/plan";
import { explicitMounts, overlayAllocator } from "./_explicit.js";
import { byDepth, childToward, depth, isBelow, isWithin, parentOf, resolvePath } from "./_paths.js";
import type { ExplicitMount, FsHostFacts, FsLayout } from "./_types.js";

export interface DefaultModeOptions {
  /** The working directory C, canonical (realpath): writable, changes persist. */
  cwd: string;
  /** The caller's home H, canonical; `null` when there is none. */
  home: string | null;
  /** $XDG_RUNTIME_DIR, if set: a private empty directory inside. */
  runtimeDir?: string | null;
  /** The per-run storage directory for overlay upper/work directories. */
  storage: string;
  /** -M / -w / -e / -k, in the order given. */
  mounts?: ExplicitMount[];
  host: FsHostFacts;
}

/** Top-level directories shown through an overlay: host content visible, writes discarded. */
export function isOverlayDir(name: string): boolean {
  return (
    name === "usr" ||
    name === "bin" ||
    name === "sbin" ||
    name === "etc" ||
    name === "var" ||
    name === "opt" ||
    name.startsWith("lib")
  );
}

/** Top-level names every mode builds itself instead of taking them from the host. */
const SYSTEM = new Set(["proc", "dev", "sys", "tmp", "run"]);

function conflict(message: string, hint: string): MsError {
  return new MsError("ERR_MS_CONFLICT", message, { hint });
}

/**
 * The default mode (-x). A fresh tmpfs root, sealed read-only at the end,
 * holding:
 * - overlays over /usr /bin /sbin /lib* /etc /var /opt (those that are
 *   directories; top-level symlinks such as /bin -> usr/bin stay symlinks);
 *   one with host mounts below it is bound read-only instead (overlayfs
 *   cannot use it as a lower layer here), with a notice;
 * - C writable; below H the directory leading to C read-only; H an empty
 *   private tmpfs (C == H: C is not shared, the command starts in it);
 * - /home (and the parent of H) as empty directories: other users' homes
 *   hidden, as is every other home the host lists;
 * - private /tmp, /var/tmp, /run, /var/run, $XDG_RUNTIME_DIR; minimal /dev;
 *   fresh /proc; /sys read-only;
 * - everything else at the top level bound read-only, recursively.
 *
 * Autofs mount points are never looked at: the root listing comes from
 * readdir, and mounts are cloned through O_PATH descriptors by the executor.
 */
export function defaultModeMounts(options: DefaultModeOptions): FsLayout {
  const { cwd, host, storage } = options;
  const home = options.home && options.home !== "/" ? options.home : null;
  const explicit = options.mounts ?? [];
  const runtimeDir = options.runtimeDir && options.runtimeDir !== "/" ? options.runtimeDir : null;
  if (cwd === "/")
    throw conflict(
      "the working directory is /: the whole host would be writable",
      "run mini-sandbox from a project directory, or name one with -W DIR",
    );

  const entries = new Map(host.root.map((e) => [e.name, e]));
  /** A top-level directory the default mode would bind read-only. */
  const isPlainTop = (path: string) => {
    const e = entries.get(path.slice(1));
    return depth(path) === 1 && e?.type === "dir" && !SYSTEM.has(e.name) && !isOverlayDir(e.name);
  };
  const overlay = overlayAllocator(storage);

  // Hidden areas. Top-level ones are empty directories of the root (never
  // bound); a deeper parent of H becomes an empty tmpfs.
  const skeletons = new Set<string>();
  if (entries.get("home")?.type === "dir") skeletons.add("/home");
  let homeBase: string | null = null;
  if (home && depth(home) >= 2) {
    const base = parentOf(home);
    if (isPlainTop(base)) skeletons.add(base);
    else if (depth(base) >= 2 && ![...skeletons].some((s) => isWithin(base, s))) homeBase = base;
  }
  const privateAreas = [
    "/tmp",
    "/run",
    "/dev",
    "/proc",
    ...host.privateVarDirs,
    ...(runtimeDir ? [runtimeDir] : []),
  ];
  const otherHomes = [...new Set(host.homes.map((h) => resolvePath("/", h)))].filter(
    (h) =>
      h !== "/" &&
      h !== home &&
      entries.has(childToward("/", h).slice(1)) &&
      !SYSTEM.has(childToward("/", h).slice(1)) &&
      !(home && (isWithin(home, h) || isWithin(h, home))),
  );
  for (const h of otherHomes) if (isPlainTop(h)) skeletons.add(h);
  const hidden = [...skeletons, ...(homeBase ? [homeBase] : [])];

  if (home && isBelow(home, cwd))
    throw conflict(
      `the working directory ${cwd} contains your home directory ${home}, which -x hides`,
      "run mini-sandbox in a project directory; share a part of the home explicitly with -M or -w",
    );
  for (const area of hidden)
    if (isWithin(area, cwd))
      throw conflict(
        `the working directory ${cwd} contains ${area}, whose content -x hides (other users' homes)`,
        "run mini-sandbox in a project directory",
      );
  const shareCwd = cwd !== home;
  const notices =
    shareCwd || explicit.some((m) => m.target === home)
      ? []
      : [
          `the working directory is your home directory ${cwd}; -x does not share it: the command starts in an empty home that is discarded at exit (share it with -w ${cwd})`,
        ];

  // Overlayfs refuses a lower directory with mounts below it: inside our
  // user namespace the host's mounts are locked, and the kernel will not
  // clone a tree that hides locked mounts ("failed to clone lowerpath").
  // Such an area falls back to a read-only bind, and the user is told.
  const mountPoints = [...new Set(host.mounts.map((m) => m.target))];
  const fallback = (path: string) => mountPoints.find((t) => isBelow(t, path));
  for (const e of host.root) {
    const below = e.type === "dir" && isOverlayDir(e.name) ? fallback(`/${e.name}`) : undefined;
    if (below)
      notices.push(
        `/${e.name} is read-only instead of an overlay: host mounts below it (${below}) cannot be an overlay's lower layer in a user namespace`,
      );
  }

  // The top level.
  const base: MountStep[] = [];
  for (const e of [...host.root].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = `/${e.name}`;
    if (SYSTEM.has(e.name) && e.name !== "sys") continue;
    if (e.name === "sys") {
      if (e.type === "dir")
        base.push({ type: "bind", source: "/sys", target: "/sys", readOnly: true });
    } else if (skeletons.has(path)) base.push({ type: "mkdir", target: path, mode: 0o755 });
    else if (path === home) continue;
    else if (e.type === "symlink" && e.linkTo)
      base.push({ type: "symlink", target: path, linkTo: e.linkTo });
    else if (e.type === "dir" && isOverlayDir(e.name) && !fallback(path))
      base.push(overlay(path, path));
    else if (e.type === "dir" || e.type === "file")
      base.push({ type: "bind", source: path, target: path, readOnly: true });
  }
  base.push(
    { type: "dev", target: "/dev" },
    { type: "proc", target: "/proc" },
    { type: "tmpfs", target: "/tmp", mode: 0o1777, sizeBytes: 0 },
    { type: "tmpfs", target: "/run", mode: 0o755, sizeBytes: 0 },
  );

  // Everything below the top level, mounted parents first.
  const later: MountStep[] = [];
  const seals: string[] = ["/"];
  // /var/tmp: private like /tmp (and an unprivileged caller could not write
  // through an overlay there: copy-up of a root-owned directory needs a uid
  // the user namespace does not map).
  for (const dir of host.privateVarDirs)
    if (!isWithin(dir, cwd))
      later.push({
        type: "tmpfs",
        target: dir,
        mode: dir === "/var/tmp" ? 0o1777 : 0o755,
        sizeBytes: 0,
      });
  if (runtimeDir && !isWithin(runtimeDir, cwd))
    later.push({ type: "tmpfs", target: runtimeDir, mode: 0o700, sizeBytes: 0 });
  for (const h of otherHomes) {
    if (
      depth(h) < 2 ||
      hidden.some((a) => isWithin(h, a)) ||
      privateAreas.some((p) => isWithin(h, p))
    )
      continue;
    if (shareCwd && cwd === h) continue;
    const inside = (shareCwd && isBelow(cwd, h)) || explicit.some((m) => isBelow(m.target, h));
    if (inside) {
      later.push({ type: "tmpfs", target: h, mode: 0o755, sizeBytes: 0 });
      seals.push(h);
    } else {
      later.push({ type: "hide", target: h });
    }
  }
  if (homeBase) {
    later.push({ type: "tmpfs", target: homeBase, mode: 0o755, sizeBytes: 0 });
    seals.push(homeBase);
  }
  if (home) later.push({ type: "tmpfs", target: home, mode: 0o755, sizeBytes: 0 });
  if (shareCwd) {
    if (home && isBelow(cwd, home)) {
      const parent = childToward(home, cwd);
      if (parent !== cwd)
        later.push({ type: "bind", source: parent, target: parent, readOnly: true });
    }
    later.push({ type: "bind", source: cwd, target: cwd, readOnly: false });
  }
  later.push(...explicitMounts(explicit, overlay, fallback, notices));

  return {
    mounts: [
      ...base,
      ...byDepth(later),
      // Every mount point exists now: the skeletons become read-only (their mounts keep their own flags).
      ...seals.map((target): MountStep => ({ type: "remount-ro", target, recursive: false })),
    ],
    cwd: shareCwd ? cwd : (home as string),
    notices,
  };
}
