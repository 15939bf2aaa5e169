import { writeFileSync } from "node:fs";
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
}

export function writeReport(path: string, report: Report): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
}
