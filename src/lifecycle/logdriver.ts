// --log-driver: json-file and local keep the json-file log `logs` reads; none keeps nothing to read.
import { FailedPreconditionError } from "../errors.ts";
import type { ContainerRecord } from "../store/containers.ts";

export function logDriverOf(rec: ContainerRecord): string {
  const t = (rec.hostConfig?.LogConfig as { Type?: unknown } | undefined)?.Type;
  return typeof t === "string" ? t : "json-file";
}

/** Docker's answer to `logs` for a driver it cannot read back. */
export function checkLogsReadable(rec: ContainerRecord): void {
  if (logDriverOf(rec) === "none") throw new FailedPreconditionError("configured logging driver does not support reading");
}
