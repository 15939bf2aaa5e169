export type { ExecutorErrorEvent, ExecutorEvent } from "./_events.js";
export { errorFromEvent, parseEvent } from "./_events.js";
export { findExecutor } from "./_executor-path.js";
export type { HookContext, HookHandle, RunHook, RunOptions, RunResult } from "./_runtime.js";
export { FORWARDED_SIGNALS, runPlan } from "./_runtime.js";
