import { MsError, type MsErrorCode } from "@ms/plan";

/** A status line from the executor. Readers must tolerate new fields and events. */
export type ExecutorEvent =
  | { event: "child-pid"; pid: number }
  | { event: "ready" }
  | { event: "started" }
  | { event: "timeout" }
  | { event: "exit"; code: number; signal: number; timedOut: boolean; launched: boolean }
  | ExecutorErrorEvent
  | { event: string; [key: string]: unknown };

export interface ExecutorErrorEvent {
  event: "error";
  step: number;
  op: string;
  syscall: string;
  path: string;
  errno: number;
  code: string;
  message: string;
  hint: string;
}

export function parseEvent(line: string): ExecutorEvent | null {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === "object" && value !== null && "event" in value
      ? (value as ExecutorEvent)
      : null;
  } catch {
    return null;
  }
}

function codeFor(e: ExecutorErrorEvent): MsErrorCode {
  if (e.op === "exec")
    return e.code === "ENOENT" || e.code === "ENOTDIR"
      ? "ERR_MS_COMMAND_NOT_FOUND"
      : "ERR_MS_COMMAND_NOT_EXECUTABLE";
  if (e.op === "unshare" || e.op === "identity") return "ERR_MS_NAMESPACES_UNAVAILABLE";
  return "ERR_MS_SETUP_FAILED";
}

/** Turns the executor's structured error into an MsError (three depths: message, hint, details). */
export function errorFromEvent(
  e: ExecutorErrorEvent,
  mountIndex: number | null = null,
  stepName?: string,
): MsError {
  const where = [e.syscall, e.path && JSON.stringify(e.path)].filter(Boolean).join(" ");
  const errno = e.code && e.code !== "E?" ? e.code : e.errno ? `errno ${e.errno}` : "";
  const step =
    mountIndex !== null ? ` (mount step ${mountIndex}${stepName ? `: ${stepName}` : ""})` : "";
  const message =
    e.op === "exec"
      ? e.message
      : `${e.message}${step}${where ? `: ${where}` : ""}${errno ? `: ${errno}` : ""}`;
  return new MsError(codeFor(e), message, {
    hint: e.hint || undefined,
    details: { ...e, mountIndex },
  });
}
