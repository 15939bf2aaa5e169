import type { MountStep } from "@ms/plan";

/** One row of `mini-sandbox explain`. */
export interface MountRow {
  path: string;
  kind: "overlay" | "read-only" | "writable" | "tmpfs" | "hidden" | "proc" | "dev" | "symlink";
  source: string;
}

function row(step: MountStep): MountRow {
  switch (step.type) {
    case "bind":
      return {
        path: step.target,
        kind: step.readOnly ? "read-only" : "writable",
        source: step.source,
      };
    case "overlay":
      return {
        path: step.target,
        kind: "overlay",
        source: `${step.lower.join(":")} (writes discarded at exit)`,
      };
    case "tmpfs":
      return { path: step.target, kind: "tmpfs", source: "empty, private, discarded at exit" };
    case "mkdir":
      return {
        path: step.target,
        kind: "hidden",
        source: "empty directory (host content not shown)",
      };
    case "hide":
      return {
        path: step.target,
        kind: "hidden",
        source: "empty, read-only (host content not shown)",
      };
    case "proc":
      return {
        path: step.target,
        kind: "proc",
        source: "fresh procfs (the sandbox's processes only)",
      };
    case "dev":
      return {
        path: step.target,
        kind: "dev",
        source: "minimal: null zero full random urandom tty pts shm",
      };
    case "symlink":
      return { path: step.target, kind: "symlink", source: `-> ${step.linkTo}` };
    case "file":
      return { path: step.target, kind: "read-only", source: "generated file" };
    case "remount-ro":
      return step.recursive === false
        ? {
            path: step.target,
            kind: "read-only",
            source: "this directory itself (its mounts keep their own kind)",
          }
        : { path: step.target, kind: "read-only", source: "everything below, submounts included" };
  }
}

/**
 * The mount table a plan gives, in the words of `explain`: one row per
 * path, sorted by path; a later mount on the same path wins and is listed
 * after the one it covers.
 */
export function describeMounts(steps: MountStep[]): MountRow[] {
  return steps
    .map((step, i) => ({ r: row(step), i }))
    .sort((a, b) => (a.r.path < b.r.path ? -1 : a.r.path > b.r.path ? 1 : a.i - b.i))
    .map((x) => x.r);
}

/** Shows a path readably: control characters (newlines in paths) escaped. */
function show(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  return /[\x00-\x1f\x7f]/.test(text) ? JSON.stringify(text) : text;
}

/** The rows as an aligned text table. */
export function formatMountTable(rows: MountRow[]): string {
  const cells = rows.map((r) => [show(r.path), r.kind, show(r.source)] as const);
  const w0 = Math.max(4, ...cells.map((c) => c[0].length));
  const w1 = Math.max(4, ...cells.map((c) => c[1].length));
  const lines = [
    `${"PATH".padEnd(w0)}  ${"KIND".padEnd(w1)}  SOURCE`,
    ...cells.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`),
  ];
  return `${lines.join("\n")}\n`;
}
