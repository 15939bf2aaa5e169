/**
 * The per-run storage of the overlay modes, on the host: where upper and
 * work directories live during a run, how they go away afterwards, and the
 * change report read from them.
 *
 * Design (see the README):
 * - one private directory per run, made by mkdtemp (mode 0700, a random
 *   name, never a shared predictable path), in $XDG_RUNTIME_DIR when it is
 *   ours and private, else in the system temporary directory;
 * - its name carries the owning CLI's pid and start time, so any later run
 *   can tell a leftover of a crashed (SIGKILLed) run from a live one and
 *   remove it; only directories owned by the caller are ever touched;
 * - removal tolerates what overlayfs and the command leave behind (a
 *   mode-000 work directory, unreadable directories).
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { type MountStep, MsError } from "@ms/plan";
import { isBelow } from "./_paths.js";

/** Every per-run directory starts with this. */
export const RUN_PREFIX = "mini-sandbox-";
const RUN_NAME = /^mini-sandbox-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

const uid = () => process.getuid?.() ?? 0;

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

/** Start time of a process (field 22 of /proc/PID/stat), or null if it does not exist. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and ')': fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Where per-run directories go: $XDG_RUNTIME_DIR when it is a directory
 * owned by the caller and closed to everyone else, else the system
 * temporary directory ($TMPDIR, else /tmp; mkdtemp makes the run
 * directory private there).
 */
export function storageBase(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg?.startsWith("/")) {
    try {
      const st = lstatSync(xdg);
      if (st.isDirectory() && st.uid === uid() && (st.mode & 0o077) === 0) return realpathSync(xdg);
    } catch {
      // not usable: fall back
    }
  }
  const tmp = env.TMPDIR?.startsWith("/") ? env.TMPDIR : tmpdir();
  try {
    return realpathSync(tmp);
  } catch (error) {
    throw new MsError(
      "ERR_MS_PATH_NOT_FOUND",
      `the temporary directory ${tmp} (TMPDIR) does not exist`,
      {
        cause: error,
        hint: "set TMPDIR to an existing directory, or put the overlay storage elsewhere with -d DIR",
      },
    );
  }
}

/** A placeholder run directory for plans that are only printed (--dry-run, explain): nothing is created. */
export function plannedRunDir(base: string): string {
  return `${base === "/" ? "" : base}/${RUN_PREFIX}${process.pid}-0-XXXXXX`;
}

/** Makes a fresh private (0700) per-run directory in `base`. */
export function createRunDir(base: string): string {
  const start = processStartTime(process.pid) ?? "0";
  try {
    return mkdtempSync(`${base === "/" ? "" : base}/${RUN_PREFIX}${process.pid}-${start}-`);
  } catch (error) {
    throw new MsError(
      "ERR_MS_SETUP_FAILED",
      `cannot create a private directory in ${base}: ${errnoOf(error)}`,
      {
        cause: error,
        hint:
          errnoOf(error) === "ENOSPC"
            ? "the disk is full: free space, or put the overlay storage elsewhere with -d DIR"
            : "check that the directory exists and is writable, or name another with -d DIR (or TMPDIR)",
      },
    );
  }
}

/** Makes every directory below `path` writable and searchable for its owner, so it can be removed. */
function unlock(path: string): void {
  try {
    chmodSync(path, 0o700);
    for (const entry of readdirSync(path, { withFileTypes: true }))
      if (entry.isDirectory()) unlock(`${path}/${entry.name}`);
  } catch {
    // best effort: rmSync reports what is left
  }
}

/** Depth-first removal with readdir's types (no lstat per entry): the common case is a few empty directories. */
function removeTree(path: string): void {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (error) {
    // overlayfs leaves its work/work directory with mode 000.
    if (errnoOf(error) !== "EACCES") throw error;
    chmodSync(path, 0o700);
    entries = readdirSync(path, { withFileTypes: true });
  }
  for (const entry of entries) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory()) removeTree(child);
    else unlinkSync(child);
  }
  rmdirSync(path);
}

/** Removes a per-run directory and everything in it. */
export function removeRunDir(path: string): void {
  try {
    removeTree(path);
  } catch {
    // A directory we may not read or write (overlayfs's mode-000 work dir, or the command's own).
    unlock(path);
    rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Removes leftovers of runs that died without cleaning up (the CLI was
 * SIGKILLed, the machine lost power): run directories in `base` whose
 * owning process is gone, owned by the caller. Live runs are never touched.
 */
export function sweepStale(base: string): string[] {
  const removed: string[] = [];
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(base, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const m = RUN_NAME.exec(entry.name);
    if (!m || !entry.isDirectory()) continue;
    if (Number(m[1]) === process.pid || processStartTime(Number(m[1])) === m[2]) continue;
    const path = `${base === "/" ? "" : base}/${entry.name}`;
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || st.uid !== uid()) continue;
      removeRunDir(path);
      removed.push(path);
    } catch {
      // raced with another run's sweep
    }
  }
  return removed;
}

/** One overlay of a plan whose upper directory lives in the run directory. */
export interface OverlayArea {
  /** Where it is mounted inside the sandbox. */
  target: string;
  /** The host directory it shows. */
  lower: string;
  upper: string;
  work: string;
}

export function overlayAreas(mounts: MountStep[], runDir: string): OverlayArea[] {
  return mounts.flatMap((s) =>
    s.type === "overlay" && isBelow(s.upper, runDir)
      ? [{ target: s.target, lower: s.lower[0] as string, upper: s.upper, work: s.work }]
      : [],
  );
}

/**
 * Creates the upper and work directories. The overlay's root directory
 * takes its owner and mode from the upper directory, which belongs to the
 * caller: its owner bits are set to what the caller may do in the lower
 * directory, so a directory the caller cannot write on the host (/etc) is
 * not writable inside either.
 */
export function prepareOverlayDirs(areas: OverlayArea[]): void {
  const groups = new Set(process.getgroups?.() ?? []);
  for (const area of areas) {
    let mode = 0o755;
    try {
      const st = lstatSync(area.lower);
      const bits =
        st.uid === uid()
          ? (st.mode >> 6) & 7
          : groups.has(st.gid) || st.gid === process.getgid?.()
            ? (st.mode >> 3) & 7
            : st.mode & 7;
      mode = (st.mode & 0o7077) | (bits << 6);
    } catch {
      // the executor reports a missing lower directory by name
    }
    try {
      mkdirSync(area.upper, { recursive: true, mode: 0o700 });
      mkdirSync(area.work, { mode: 0o700 });
      chmodSync(area.upper, mode);
    } catch (error) {
      throw new MsError(
        "ERR_MS_SETUP_FAILED",
        `cannot create the overlay directories for ${area.target}: ${errnoOf(error)}`,
        {
          cause: error,
          hint:
            errnoOf(error) === "ENOSPC"
              ? "the disk is full: free space, or put the overlay storage elsewhere with -d DIR"
              : undefined,
        },
      );
    }
  }
}

/** One path the command created, modified or deleted in an overlay area (discarded at exit). */
export interface Change {
  path: string;
  change: "created" | "modified" | "deleted";
  type: "file" | "dir" | "symlink" | "other";
}

interface Entry {
  rel: string;
  kind: "whiteout" | Change["type"];
  inLower: boolean;
  lowerDir: boolean;
}

function typeOf(st: {
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}): Change["type"] {
  return st.isDirectory()
    ? "dir"
    : st.isSymbolicLink()
      ? "symlink"
      : st.isFile()
        ? "file"
        : "other";
}

function walk(area: OverlayArea, rel: string, out: Entry[]): void {
  for (const d of readdirSync(`${area.upper}${rel}`, { withFileTypes: true })) {
    const r = `${rel}/${d.name}`;
    let kind: Entry["kind"] = typeOf(d);
    if (d.isCharacterDevice() && lstatSync(`${area.upper}${r}`).rdev === 0) kind = "whiteout";
    let inLower = false;
    let lowerDir = false;
    try {
      const st = lstatSync(`${area.lower}${r}`);
      inLower = true;
      lowerDir = st.isDirectory();
    } catch {
      inLower = false;
    }
    out.push({ rel: r, kind, inLower, lowerDir });
    if (kind === "dir") walk(area, r, out);
  }
}

/**
 * What the command changed in the overlay areas, read from the upper
 * directories after the sandbox is gone. Overlayfs in a user namespace
 * records a deletion as a whiteout (a character device 0/0), and a
 * directory deleted and made again as an opaque directory (the xattr
 * user.overlay.opaque); `opaque` answers which directories are opaque.
 */
export function collectChanges(
  areas: OverlayArea[],
  opaque: (dirs: string[]) => Set<string>,
): Change[] {
  const changes: Change[] = [];
  for (const area of areas) {
    const entries: Entry[] = [];
    try {
      walk(area, "", entries);
    } catch {
      continue;
    }
    const candidates = entries
      .filter((e) => e.kind === "dir" && e.inLower && e.lowerDir)
      .map((e) => `${area.upper}${e.rel}`);
    const opaqueDirs = candidates.length ? opaque(candidates) : new Set<string>();
    const fresh: string[] = [];
    const at = (rel: string) => `${area.target === "/" ? "" : area.target}${rel}`;
    for (const e of entries) {
      const underFresh = fresh.some((f) => e.rel.startsWith(`${f}/`));
      if (e.kind === "whiteout") {
        let type: Change["type"] = "other";
        try {
          type = typeOf(lstatSync(`${area.lower}${e.rel}`));
        } catch {
          // the lower entry is gone too
        }
        changes.push({ path: at(e.rel), change: "deleted", type });
      } else if (e.kind === "dir" && (underFresh || !e.inLower || !e.lowerDir)) {
        changes.push({ path: at(e.rel), change: "created", type: "dir" });
        fresh.push(e.rel);
      } else if (e.kind === "dir" && opaqueDirs.has(`${area.upper}${e.rel}`)) {
        // Deleted, then made again: everything the host had in it is gone.
        const kept = new Set(readdirSync(`${area.upper}${e.rel}`));
        for (const name of readdirSync(`${area.lower}${e.rel}`)) {
          if (kept.has(name)) continue;
          let type: Change["type"] = "other";
          try {
            type = typeOf(lstatSync(`${area.lower}${e.rel}/${name}`));
          } catch {
            // gone on the host meanwhile
          }
          changes.push({ path: at(`${e.rel}/${name}`), change: "deleted", type });
        }
        fresh.push(e.rel);
      } else if (e.kind !== "dir") {
        changes.push({
          path: at(e.rel),
          change: underFresh || !e.inLower ? "created" : "modified",
          type: e.kind,
        });
      }
    }
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Moves each upper directory into `dir`, at the path of its area
 * (`dir/etc`, `dir/usr`, ...), instead of deleting it. Deletions stay
 * whiteouts (character devices 0/0), so `dir/etc` can serve as an
 * overlay upper directory again.
 */
export function keepChanges(areas: OverlayArea[], dir: string): string[] {
  const kept: string[] = [];
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const area of areas) {
    let dest = `${dir}/${area.target === "/" ? "root" : area.target.slice(1)}`;
    for (let n = 1; existsSync(dest); n++)
      dest = `${dir}/${area.target === "/" ? "root" : area.target.slice(1)}.${n}`;
    mkdirSync(dest.slice(0, dest.lastIndexOf("/")), { recursive: true, mode: 0o700 });
    // Moving a directory to another parent needs write access to it (its ".." changes).
    chmodSync(area.upper, 0o755);
    try {
      renameSync(area.upper, dest);
    } catch (error) {
      if (errnoOf(error) !== "EXDEV")
        throw new MsError(
          "ERR_MS_SETUP_FAILED",
          `--keep-changes: cannot move the changes of ${area.target} to ${dest}: ${errnoOf(error)}`,
          { cause: error },
        );
      // Another filesystem: copy with cp -a, which keeps whiteouts and xattrs.
      // child_process only on this rare path: loading it costs start-up time.
      const { spawnSync } = createRequire(import.meta.url)(
        "node:child_process",
      ) as typeof import("node:child_process");
      const cp = spawnSync("cp", ["-a", "--", area.upper, dest], { encoding: "utf8" });
      if (cp.status !== 0)
        throw new MsError(
          "ERR_MS_SETUP_FAILED",
          `--keep-changes: cannot copy the changes of ${area.target} to ${dest}: ${cp.stderr.trim() || cp.error?.message}`,
          {
            hint: "keep them on the same filesystem as the overlay storage (-d DIR)",
          },
        );
    }
    chmodSync(dest, 0o755);
    kept.push(dest);
  }
  return kept;
}
