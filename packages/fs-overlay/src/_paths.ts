/**
 * Path arithmetic on absolute, normalised paths. Pure string work: no Node
 * APIs, no filesystem. Callers canonicalise first (realpath); these helpers
 * never decide anything about symlinks.
 */

/** Number of components: "/" is 0, "/a/b" is 2. */
export function depth(path: string): number {
  return path === "/" ? 0 : path.split("/").length - 1;
}

/** True when `path` is `dir` or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || dir === "/" || path.startsWith(`${dir}/`);
}

/** True when `path` lies strictly below `dir`. */
export function isBelow(path: string, dir: string): boolean {
  return path !== dir && isWithin(path, dir);
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** The first component below `ancestor` on the way to `path` (`path` must lie below it). */
export function childToward(ancestor: string, path: string): string {
  const rest = path.slice(ancestor === "/" ? 1 : ancestor.length + 1);
  const slash = rest.indexOf("/");
  return `${ancestor === "/" ? "" : ancestor}/${slash < 0 ? rest : rest.slice(0, slash)}`;
}

/** The top-level directory a path lies in ("/usr/lib" -> "/usr"). */
export function topLevel(path: string): string {
  return path === "/" ? "/" : childToward("/", path);
}

/**
 * Lexically normalises an absolute path (collapses "//", "." and ".."),
 * or resolves a relative one against `base`. Like path.resolve, without Node.
 */
export function resolvePath(base: string, path: string): string {
  const parts: string[] = [];
  for (const part of `${path.startsWith("/") ? "" : `${base}/`}${path}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** Sorts by depth, keeping the given order among paths of the same depth (parents mount first). */
export function byDepth<T extends { target: string }>(items: T[]): T[] {
  return items
    .map((item, i) => ({ item, i, d: depth(item.target) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.item);
}
