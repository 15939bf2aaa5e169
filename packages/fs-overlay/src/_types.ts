import type { MountStep } from "@ms/plan";

/** One entry of the host's root directory, as readdir reports it (never stat'ed). */
export interface RootEntry {
  name: string;
  type: "dir" | "file" | "symlink" | "other";
  /** For symlinks: where it points (as stored in the link). */
  linkTo?: string;
}

/** One mount of the host, from /proc/self/mountinfo. */
export interface HostMount {
  /** Mount point (unescaped). */
  target: string;
  fsType: string;
}

/** What the filesystem builders need to know about the host; the probe collects it. */
export interface FsHostFacts {
  /** The entries of `/`. */
  root: RootEntry[];
  /** Every mount point of the host (autofs ones included: they are never stat'ed). */
  mounts: HostMount[];
  /** Home directories of the host's users (root and regular accounts), as listed. */
  homes: string[];
  /**
   * Those of /var/run and /var/tmp that are real directories (not symlinks):
   * each gets a private tmpfs. /var/run is usually a symlink to /run.
   */
  privateVarDirs: string[];
}

/** A mount the user asked for: -M, -M SRC -m DST, -w, -e, -k. Paths are absolute. */
export type ExplicitMount =
  | { type: "read-only"; source: string; target: string }
  | { type: "writable"; source: string; target: string }
  | { type: "tmpfs"; target: string }
  | { type: "overlay"; source: string; target: string };

/** What a mode builder returns: the mount steps and where the command starts. */
export interface FsLayout {
  mounts: MountStep[];
  /** Working directory inside the sandbox. */
  cwd: string;
  /** Things the user should be told on stderr (e.g. the home is not shared). */
  notices: string[];
}
