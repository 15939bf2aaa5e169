export type { MsErrorCode, MsErrorOptions } from "./_errors.js";
export { ERROR_CODES, exitCodeFor, isMsError, MsError } from "./_errors.js";
export { formatPlan } from "./_print.js";
export type {
  BindStep,
  DevStep,
  FileStep,
  HideStep,
  Identity,
  MkdirStep,
  MountStep,
  MountStepType,
  NamespaceSet,
  NetworkSpec,
  OverlayStep,
  Plan,
  ProcessSpec,
  ProcStep,
  RemountReadOnlyStep,
  Rlimit,
  RlimitName,
  SymlinkStep,
  TimeoutSpec,
  TmpfsStep,
} from "./_types.js";
export { PLAN_VERSION, RLIMIT_NAMES } from "./_types.js";
export { validatePlan } from "./_validate.js";
export { encodePlan, mountIndexOfWireStep, WIRE_MAGIC } from "./_wire.js";
