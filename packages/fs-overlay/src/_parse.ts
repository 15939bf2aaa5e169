import type { HostMount } from "./_types.js";

/** Undoes mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  );
}

/** Mount points and filesystem types from the text of /proc/self/mountinfo. */
export function parseMountInfo(text: string): HostMount[] {
  const mounts: HostMount[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    const target = fields[4];
    if (target === undefined || dash < 0) continue;
    mounts.push({ target: unescapeMountPath(target), fsType: fields[dash + 1] ?? "" });
  }
  return mounts;
}

/**
 * Home directories of the accounts a person may own: uid 0 and regular
 * users (uid 1000 and up, except nobody). System accounts' homes
 * (/var/lib/..., /nonexistent) are not homes worth hiding.
 */
export function parsePasswdHomes(text: string): string[] {
  const homes: string[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    const uid = Number(f[2]);
    const home = f[5];
    if (f.length < 7 || !Number.isInteger(uid) || !home?.startsWith("/")) continue;
    if (uid === 0 || (uid >= 1000 && uid !== 65534 && uid !== 4294967294)) homes.push(home);
  }
  return homes;
}
