/**
 * One error class for every package, with a closed set of codes.
 *
 * `message` says what is wrong, `hint` what to do next, `cause` where it
 * came from. The CLI prints message, hint and code; stacks only with --debug.
 */

export const ERROR_CODES = {
  /** A flag, argument or option is malformed or missing. */
  ERR_MS_USAGE: "bad usage",
  /** Two options that cannot be combined were given. */
  ERR_MS_CONFLICT: "conflicting options",
  /** A path the user named does not exist. */
  ERR_MS_PATH_NOT_FOUND: "path not found",
  /** The plan failed validation. */
  ERR_MS_INVALID_PLAN: "invalid plan",
  /** A network rule could not be parsed. */
  ERR_MS_BAD_RULE: "bad network rule",
  /** This host cannot create the namespaces the sandbox needs. */
  ERR_MS_NAMESPACES_UNAVAILABLE: "namespaces unavailable",
  /** A step of the sandbox setup failed (mount, pivot_root, ...). */
  ERR_MS_SETUP_FAILED: "sandbox setup failed",
  /** The native executor is missing or could not be started. */
  ERR_MS_EXECUTOR: "executor failure",
  /** A helper program (pasta, nft) is missing or unusable. */
  ERR_MS_HELPER_MISSING: "helper missing",
  /** The command was not found inside the sandbox. */
  ERR_MS_COMMAND_NOT_FOUND: "command not found",
  /** The command exists but cannot be executed. */
  ERR_MS_COMMAND_NOT_EXECUTABLE: "command not executable",
  /** A bug in mini-sandbox. */
  ERR_MS_INTERNAL: "internal error",
} as const;

export type MsErrorCode = keyof typeof ERROR_CODES;

/** Exit status the CLI uses for each code (see the README's exit code table). */
export function exitCodeFor(code: MsErrorCode): number {
  if (code === "ERR_MS_COMMAND_NOT_FOUND") return 127;
  if (code === "ERR_MS_COMMAND_NOT_EXECUTABLE") return 126;
  return 125;
}

export interface MsErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured details from the executor: step, syscall, path, errno. */
  details?: Record<string, unknown>;
}

export class MsError extends Error {
  override readonly name = "MsError";
  readonly code: MsErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: MsErrorCode, message: string, options: MsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }

  /** Normalise anything thrown into an MsError. */
  static from(error: unknown): MsError {
    if (error instanceof MsError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new MsError("ERR_MS_INTERNAL", message, { cause: error });
  }
}

export function isMsError(value: unknown): value is MsError {
  return value instanceof MsError;
}
