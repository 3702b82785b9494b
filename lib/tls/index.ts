// The wire prober: what a server really negotiates, per TLS version, over the service's own
// dialog. The only code in tlsfleet that opens TLS connections for probing.
export { probeEndpoint, DEFAULT_TIMEOUT_MS, DEFAULT_DEADLINE_MS, DEFAULT_MAX_PRE_TLS_BYTES, NOT_TESTABLE } from "./probe";
export type { ProbeOptions } from "./probe";
export { probeMany, DEFAULT_CONCURRENCY } from "./probe-many";
export type { ProbeManyOptions } from "./probe-many";
export { decideVerdict } from "./verdict";
export type { VerdictEvidence } from "./verdict";
export { isTargetAllowed, parseAllowList, AllowListSyntaxError } from "./allowlist";
export type { AllowList } from "./allowlist";
export { ConnectionGate, sharedConnectionGate } from "./connection-gate";
export { serviceForPort, defaultPortForService, startTlsDialogFor, isService } from "./services";
export { parseTargetSpec, parseTargetsFile, formatTarget, TargetSyntaxError } from "./targets";
export * from "./types";
