import { type MountStep, MsError } from "@ms/plan";
import { explicitMounts, overlayAllocator } from "./_explicit.js";
import { byDepth, isBelow, isWithin, resolvePath } from "./_paths.js";
import type { ExplicitMount, FsLayout, HostMount, RootEntry } from "./_types.js";

export interface CustomModeOptions {
  /** The working directory C, canonical: writable, changes persist. */
  cwd: string;
  /** The per-run root directory on the host (inside -o ROOT or -h ROOT); writable, removed at exit. */
  root: string;
  /** The per-run storage directory for -k overlays; `null` when there are none. */
  storage: string | null;
  /** -M / -w / -e / -k, in the order given. */
  mounts?: ExplicitMount[];
  /** The host's top-level entries: merged-/usr symlinks are recreated for what is mounted. */
  hostRoot?: RootEntry[];
  /** The host's mounts: a -k directory with mounts below it cannot be an overlay (read-only instead). */
  hostMounts?: HostMount[];
}

/**
 * Custom (-o ROOT) and hermetic (-h ROOT) modes: a root built in a host
 * directory with only what is asked for, plus C, a fresh /proc, a minimal
 * /dev and a private /tmp. No home, nothing else of the host. A top-level
 * symlink of the host (/bin -> usr/bin) is recreated when its target is
 * mounted, so `-M /usr` is enough to find /bin/sh.
 */
export function customModeMounts(options: CustomModeOptions): FsLayout {
  const { cwd, root } = options;
  const explicit = options.mounts ?? [];
  if (cwd === "/")
    throw new MsError(
      "ERR_MS_CONFLICT",
      "the working directory is /: the whole host would be writable",
      {
        hint: "run mini-sandbox from a project directory, or name one with -W DIR",
      },
    );
  const base: MountStep[] = [
    { type: "bind", source: root, target: "/", readOnly: false },
    { type: "dev", target: "/dev" },
    { type: "proc", target: "/proc" },
    { type: "tmpfs", target: "/tmp", mode: 0o1777, sizeBytes: 0 },
  ];
  for (const e of options.hostRoot ?? []) {
    if (e.type !== "symlink" || !e.linkTo) continue;
    const path = `/${e.name}`;
    const to = resolvePath("/", e.linkTo);
    if (explicit.some((m) => m.target === path) || isWithin(cwd, path)) continue;
    if (explicit.some((m) => isWithin(to, m.target)))
      base.push({ type: "symlink", target: path, linkTo: e.linkTo });
  }
  const notices: string[] = [];
  const below = (path: string) => options.hostMounts?.find((m) => isBelow(m.target, path))?.target;
  const later: MountStep[] = [
    { type: "bind", source: cwd, target: cwd, readOnly: false },
    ...explicitMounts(explicit, overlayAllocator(options.storage), below, notices),
  ];
  return { mounts: [...base, ...byDepth(later)], cwd, notices };
}
