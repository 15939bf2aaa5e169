/**
 * The filesystem flags (-x -o -h -d -k -M -m -w -e --changes --keep-changes):
 * user-input validation, the per-run directories on the host, and the change
 * report after the run. The sandbox logic itself is in @ms/fs-overlay.
 */
import { readdirSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { type ExplicitMount, type FsHostFacts, isOverlayDir, isWithin } from "@ms/fs-overlay";
import { canonicalHome, probeFsHost, runtimeDir } from "@ms/fs-overlay/probe";
import {
  type Change,
  collectChanges,
  createRunDir,
  keepChanges,
  type OverlayArea,
  overlayAreas,
  plannedRunDir,
  prepareOverlayDirs,
  removeRunDir,
  storageBase,
  sweepStale,
} from "@ms/fs-overlay/storage";
import { type MountStep, MsError } from "@ms/plan";
import { type FsMode, planFilesystem, type SandboxOptions } from "@ms/policy";
import { checkConflicts, type ParsedArgs } from "./_flags.js";

/** What the filesystem flags ask for, validated; paths absolute and canonical where they name host content. */
export interface FsRequest {
  mode: FsMode;
  mounts: ExplicitMount[];
  /** -o ROOT / -h ROOT. */
  rootBase: string | null;
  /** -d DIR. */
  overlayBase: string | null;
  changes: boolean;
  keepChanges: string | null;
  /** Host directories the sandbox may write (for the "storage inside a writable directory" check). */
  writable: { path: string; name: string }[];
}

/** An existing host path, canonical; a missing one is a 125 naming it. */
function existing(cwd: string, given: string, flag: string, kind: "any" | "dir"): string {
  const abs = resolve(cwd, given);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new MsError("ERR_MS_PATH_NOT_FOUND", `${flag} ${given}: ${abs} does not exist`, {
      hint: "name an existing path; relative paths start from the working directory",
    });
  }
  if (kind === "dir" && !statSync(real).isDirectory())
    throw new MsError("ERR_MS_USAGE", `${flag} ${given}: ${real} is not a directory`);
  return real;
}

function target(cwd: string, given: string, flag: string): string {
  const abs = resolve(cwd, given);
  if (abs === "/")
    throw new MsError("ERR_MS_USAGE", `${flag} ${given}: cannot mount over / itself`, {
      hint: "name a directory below /",
    });
  return abs;
}

/** Maps the filesystem flags onto a request; every user-input error is a 125 naming the flag and path. */
export function fsRequest(parsed: ParsedArgs, cwd: string): FsRequest {
  const f = parsed.flags;
  checkConflicts(parsed, [
    ["defaultMode", "customRoot"],
    ["defaultMode", "hermeticRoot"],
    ["customRoot", "hermeticRoot"],
    ["hermeticRoot", "overlay"],
    ["hermeticRoot", "overlayDir"],
    ["hermeticRoot", "changes"],
    ["hermeticRoot", "keepChanges"],
  ]);
  const mode: FsMode = f.defaultMode
    ? "default"
    : f.customRoot
      ? "custom"
      : f.hermeticRoot
        ? "hermetic"
        : "read-only";
  const overlayMode = mode === "default" || mode === "custom";
  for (const key of ["overlay", "overlayDir", "changes", "keepChanges"])
    if (f[key] !== undefined && !overlayMode)
      throw new MsError(
        "ERR_MS_USAGE",
        `${parsed.spelled[key]} needs an overlay mode: -x or -o ROOT`,
        {
          hint: "add -x (the default sandbox) or -o ROOT (a custom root)",
        },
      );

  // -M SRC [-m DST]: -m names the target of the -M just before it.
  const mounts: ExplicitMount[] = [];
  const order = parsed.order ?? [];
  for (let i = 0; i < order.length; i++) {
    const { key, value } = order[i] as { key: string; value: string | true };
    if (typeof value !== "string") continue;
    const flag = parsed.spelled[key] ?? key;
    if (key === "bindTarget")
      throw new MsError(
        "ERR_MS_USAGE",
        `-m ${value} must follow -M SRC (it names where SRC goes)`,
        {
          hint: "write -M SRC -m DST",
        },
      );
    if (key === "readOnlyBind") {
      const source = existing(cwd, value, "-M", "any");
      const next = order[i + 1];
      const dst = next?.key === "bindTarget" && typeof next.value === "string" ? next.value : null;
      if (dst !== null) i++;
      mounts.push({
        type: "read-only",
        source,
        target: target(cwd, dst ?? value, dst !== null ? "-m" : "-M"),
      });
    } else if (key === "writableBind") {
      mounts.push({
        type: "writable",
        source: existing(cwd, value, flag, "any"),
        target: target(cwd, value, flag),
      });
    } else if (key === "emptyDir") {
      existing(cwd, value, flag, "dir");
      mounts.push({ type: "tmpfs", target: target(cwd, value, flag) });
    } else if (key === "overlay") {
      mounts.push({
        type: "overlay",
        source: existing(cwd, value, flag, "dir"),
        target: target(cwd, value, flag),
      });
    }
  }
  const ro = mounts.filter((m) => m.type === "read-only");
  for (const w of mounts)
    if (w.type === "writable" && ro.some((r) => r.source === w.source))
      throw new MsError(
        "ERR_MS_CONFLICT",
        `-M and -w both name ${w.source}: read-only and writable at once`,
        {
          hint: "keep one of them",
        },
      );

  const rootFlag = f.customRoot !== undefined ? "customRoot" : "hermeticRoot";
  const rootGiven = (f.customRoot ?? f.hermeticRoot) as string | undefined;
  const rootBase =
    rootGiven === undefined
      ? null
      : existing(cwd, rootGiven, parsed.spelled[rootFlag] ?? "-o", "dir");
  const overlayBase =
    typeof f.overlayDir === "string" ? existing(cwd, f.overlayDir, "-d", "dir") : null;

  let keep: string | null = null;
  if (typeof f.keepChanges === "string") {
    keep = resolve(cwd, f.keepChanges);
    let entries: string[] | null = null;
    try {
      entries = readdirSync(keep);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR")
        throw new MsError(
          "ERR_MS_USAGE",
          `--keep-changes ${f.keepChanges}: ${keep} is not a directory`,
        );
      if (code !== "ENOENT") throw MsError.from(error);
      existing(cwd, resolve(keep, ".."), "--keep-changes", "dir");
    }
    if (entries && entries.length > 0)
      throw new MsError("ERR_MS_USAGE", `--keep-changes ${f.keepChanges}: ${keep} is not empty`, {
        hint: "name a new or empty directory",
      });
  }

  const writable = mounts.flatMap((m) =>
    m.type === "writable" ? [{ path: m.source, name: `-w ${m.source}` }] : [],
  );
  return {
    mode,
    mounts,
    rootBase,
    overlayBase,
    changes: Boolean(f.changes),
    keepChanges: keep,
    writable: [{ path: cwd, name: `the working directory ${cwd}` }, ...writable],
  };
}

/** The host side of one run's filesystem: facts, per-run directories, and their removal. */
export interface FsRun {
  /** The sandbox options completed with home, storage and root. */
  options: SandboxOptions;
  host: FsHostFacts | undefined;
  /** The per-run overlay storage directory, if any. */
  runDir: string | null;
  /** Creates the upper/work directories a built plan needs (not for printed plans). */
  prepare(mounts: MountStep[]): OverlayArea[];
  /** Removes every per-run directory and the leftovers of crashed runs. Safe to call twice. */
  cleanup(): void;
}

/**
 * Probes the host and makes the per-run directories. With `dry` (explain,
 * --dry-run) nothing is created: the plan names placeholder directories.
 */
export function startFsRun(
  options: SandboxOptions,
  req: FsRequest,
  env: Record<string, string | undefined>,
  dry: boolean,
): FsRun {
  const mode = req.mode;
  if (mode === "read-only")
    return { options, host: undefined, runDir: null, prepare: () => [], cleanup: () => {} };
  const host: FsHostFacts = probeFsHost();
  const home = mode === "default" ? canonicalHome(env.HOME) : null;
  const shared = req.writable.filter((w) => !(mode === "default" && w.path === home));
  const needsStorage = mode === "default" || req.mounts.some((m) => m.type === "overlay");
  const base = needsStorage ? (req.overlayBase ?? storageBase(env)) : null;
  const what = req.overlayBase
    ? `the overlay directory ${base} (-d)`
    : `the overlay storage ${base}`;
  const rt = mode === "default" ? runtimeDir(env.XDG_RUNTIME_DIR) : null;
  const complete = (storage: string | null, root: string | null): SandboxOptions => ({
    ...options,
    mode,
    mounts: req.mounts,
    home,
    runtimeDir: rt,
    storage,
    root,
  });

  // Refuse before anything is created: the layout's own checks first (a
  // working directory that is / or holds the home), then the storage's.
  planFilesystem(
    complete(base && plannedRunDir(base), req.rootBase && plannedRunDir(req.rootBase)),
    { uid: 0, gid: 0, ttyGid: null, fs: host },
  );
  for (const [dir, name] of [
    [base, what],
    [req.rootBase, `the sandbox root ${req.rootBase} (${mode === "custom" ? "-o" : "-h"})`],
  ] as const) {
    if (dir === null) continue;
    const inside = shared.find((w) => isWithin(dir, w.path));
    if (inside)
      throw new MsError(
        "ERR_MS_CONFLICT",
        `${name} is inside ${inside.name}, which the sandbox can write`,
        {
          hint:
            req.overlayBase || dir === req.rootBase
              ? "choose a directory outside every writable one"
              : "run elsewhere, or put the overlay storage elsewhere with -d DIR (or TMPDIR)",
        },
      );
  }
  if (base !== null) {
    const lowers = [
      ...(mode === "default"
        ? host.root
            .filter((e) => e.type === "dir" && isOverlayDir(e.name))
            .map((e) => ({ path: `/${e.name}`, name: "-x" }))
        : []),
      ...req.mounts.flatMap((m) =>
        m.type === "overlay" ? [{ path: m.source, name: `-k ${m.source}` }] : [],
      ),
    ];
    const lower = lowers.find((l) => isWithin(base, l.path));
    if (lower)
      throw new MsError(
        "ERR_MS_CONFLICT",
        `${what} is inside ${lower.path}, which ${lower.name} overlays: the layers would overlap`,
        {
          hint: "put the overlay storage elsewhere with -d DIR (or TMPDIR)",
        },
      );
  }

  const made: string[] = [];
  const cleanup = () => {
    if (dry) return;
    for (const dir of made.splice(0)) {
      try {
        removeRunDir(dir);
      } catch {
        // swept by the next run
      }
    }
    for (const dir of [base, req.rootBase]) if (dir) sweepStale(dir);
  };
  const make = (dir: string) => {
    const path = dry ? plannedRunDir(dir) : createRunDir(dir);
    if (!dry) made.push(path);
    return path;
  };
  try {
    const runDir = base ? make(base) : null;
    const root = req.rootBase ? make(req.rootBase) : null;
    return {
      options: complete(runDir, root),
      host,
      runDir,
      prepare(mounts) {
        if (!runDir) return [];
        const areas = overlayAreas(mounts, runDir);
        if (!dry) prepareOverlayDirs(areas);
        return areas;
      },
      cleanup,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/** Asks the executor which directories overlayfs marked opaque (Node cannot read xattrs). */
export function opaqueVia(executor: string | null): (dirs: string[]) => Set<string> {
  return (dirs) => {
    if (!executor) return new Set();
    // child_process only when changes are reported: loading it costs start-up time.
    const { spawnSync } = createRequire(import.meta.url)(
      "node:child_process",
    ) as typeof import("node:child_process");
    const r = spawnSync(executor, ["--opaque"], {
      input: `${dirs.join("\0")}\0`,
      maxBuffer: 64 << 20,
    });
    return new Set(r.status === 0 ? r.stdout.toString("utf8").split("\0").filter(Boolean) : []);
  };
}

/** After the run: the change list (--changes) and the kept upper directories (--keep-changes). */
export function afterRun(
  req: FsRequest,
  areas: OverlayArea[],
  executor: string | null,
): { changes: Change[] | null; kept: string[] } {
  const changes = req.changes ? collectChanges(areas, opaqueVia(executor)) : null;
  const kept = req.keepChanges ? keepChanges(areas, req.keepChanges) : [];
  return { changes, kept };
}

const SHOWN = 200;

/** The change list as printed on stderr. */
export function formatChanges(changes: Change[], keptIn: string | null): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  const show = (p: string) => (/[\x00-\x1f\x7f]/.test(p) ? JSON.stringify(p) : p);
  const where = keptIn ? `kept in ${keptIn}` : "discarded";
  const lines = [`mini-sandbox: ${changes.length} change(s) in overlay areas (${where}):`];
  for (const c of changes.slice(0, SHOWN))
    lines.push(`  ${c.change.padEnd(8)} ${show(c.path)}${c.type === "dir" ? "/" : ""}`);
  if (changes.length > SHOWN)
    lines.push(`  ... and ${changes.length - SHOWN} more (all of them are in --report FILE)`);
  return `${lines.join("\n")}\n`;
}
