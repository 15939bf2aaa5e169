import { accessSync, constants } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where the native executor is: next to the running module (a bundled CLI
 * ships it beside its own file), else in this package's native/build.
 * No environment variable can redirect it.
 */
export function findExecutor(): string | null {
  const candidates = [
    new URL("./ms-executor", import.meta.url),
    new URL("../native/build/ms-executor", import.meta.url),
  ];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // try the next one
    }
  }
  return null;
}
