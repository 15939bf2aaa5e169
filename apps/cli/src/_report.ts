import { writeFileSync } from "node:fs";
import type { Change } from "@ms/fs-overlay/storage";
import type { ExecutorEvent } from "@ms/namespaces/runtime";
import type { Plan } from "@ms/plan";

export interface Report {
  version: 1;
  exitCode: number;
  timedOut: boolean;
  signal: number | null;
  error: { code: string; message: string; hint?: string } | null;
  plan: Plan | null;
  events: ExecutorEvent[];
  /** --changes: what the command created, modified or deleted in overlay areas. */
  changes?: Change[];
  /** pasta mode: blocked attempts, denied DNS names, dropped answers (@ms/net-pasta/runtime). */
  network?: unknown;
}

export function writeReport(path: string, report: Report): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
}
