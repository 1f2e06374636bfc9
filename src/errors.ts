// One error tree for the whole engine. Only the CLI boundary (src/cli/index.ts) turns these into
// exit codes and one-line messages; everything below throws a kind and wraps with `cause`.

export type ErrorKind =
  | "NotFound"
  | "AlreadyExists"
  | "InvalidArgument"
  | "FailedPrecondition"
  | "Unavailable"
  | "Permission"
  | "Unauthenticated"
  | "DataLoss"
  | "Internal";

export class TinydockError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = `${kind}Error`;
  }
}

/** A class for one kind: its errors carry the kind, and `instanceof` tells the kinds apart. */
function kindError(kind: ErrorKind) {
  return class extends TinydockError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(kind, message, options);
    }
  };
}

export class NotFoundError extends kindError("NotFound") {}
export class AlreadyExistsError extends kindError("AlreadyExists") {}
export class InvalidArgumentError extends kindError("InvalidArgument") {}
/** Text input that does not parse: the message names the input. */
export class ParseError extends InvalidArgumentError {}
/** -it with a stdin that is not a terminal: Docker's CLI refuses it before anything else, with exit 1 even for run. */
export class NotATerminalError extends InvalidArgumentError {}
export class FailedPreconditionError extends kindError("FailedPrecondition") {}
export class UnavailableError extends kindError("Unavailable") {}
export class PermissionError extends kindError("Permission") {}
export class UnauthenticatedError extends kindError("Unauthenticated") {}
/** Content that fails verification: wrong digest, wrong size, a hostile archive. */
export class DataLossError extends kindError("DataLoss") {}
export class InternalError extends kindError("Internal") {}

/** A failed system call: names the operation, its arguments and the errno by name. */
export class SyscallError extends TinydockError {
  readonly errno: number;
  readonly code: string;
  constructor(operation: string, errno: number, code: string) {
    super(kindForErrno(code), `${operation}: ${code}`);
    this.errno = errno;
    this.code = code;
  }
}

function kindForErrno(code: string): ErrorKind {
  switch (code) {
    case "ENOENT":
      return "NotFound";
    case "EEXIST":
      return "AlreadyExists";
    case "EPERM":
    case "EACCES":
      return "Permission";
    case "EINVAL":
      return "InvalidArgument";
    case "EBUSY":
      return "FailedPrecondition";
    default:
      return "Internal";
  }
}

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof TinydockError && err.kind === kind;
}

/** Node/Bun fs errors carry `code`; this tells them apart without string matching at call sites. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === "object" && "code" in err && typeof (err as { code: unknown }).code === "string") {
    return (err as { code: string }).code;
  }
  return undefined;
}

/** The text a user sees for any thrown value: the message chain, without stacks. */
/** Control characters but the tab escaped as \xNN: a quoted path or name with line breaks stays one line. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export function describeError(err: unknown): string {
  if (err instanceof TinydockError) {
    return err.message;
  }
  if (err instanceof Error) {
    const code = errnoCode(err);
    if (code && err.message.startsWith(code)) return err.message;
    return code ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
