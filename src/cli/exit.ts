// The one place where a failure becomes its line on stderr and Docker's exit code. Everything
// below the CLI throws a typed error (src/errors.ts) and never picks a code.
import { describeError, NotATerminalError, oneLine } from "../errors.ts";
import { ExecError } from "../runtime/launch.ts";
import type { Io } from "./command.ts";
import { ArgumentsError, UsageError } from "./usage.ts";

/** A command failed (`pull`, `rm`, `exec` on a missing container, …), or got the wrong number of arguments. */
export const EXIT_FAILURE = 1;
/** A flag is wrong, or the engine failed to create or run a container. */
export const EXIT_ENGINE = 125;

/** Where the failure happened: the command path for the help pointer, and whether its errors are the engine's. */
export interface FailureSite {
  command: string;
  /** run and create: any failure before the container's own exit is the engine's (125). */
  engine: boolean;
  debug: boolean;
}

/** The exit code of `err` thrown at `site`. */
export function exitCodeOf(err: unknown, site: Pick<FailureSite, "engine">): number {
  if (err instanceof ArgumentsError) return EXIT_FAILURE;
  if (err instanceof UsageError) return EXIT_ENGINE;
  // The container's command could not be executed: 126, or 127 when it was not found.
  if (err instanceof ExecError) return err.exitCode;
  if (err instanceof NotATerminalError) return EXIT_FAILURE;
  return site.engine ? EXIT_ENGINE : EXIT_FAILURE;
}

/** Prints `err` as one line (a usage error also points at the help; --debug adds the stack) and returns the exit code. */
export function reportFailure(err: unknown, site: FailureSite, io: Io): number {
  // Messages quote what the user or a file gave (a YAML name, an archive's path): its line breaks
  // and terminal escapes are shown escaped, so the failure stays one line and cannot redraw the screen.
  const text = oneLine(describeError(err).trim());
  if (text) io.err(`Error: ${text}\n`);
  if (err instanceof UsageError) {
    const command = err.command ?? site.command;
    io.err(`See 'tinydock${command ? ` ${command}` : ""} --help'.\n`);
  } else if (site.debug && err instanceof Error && err.stack) {
    io.err(`${err.stack}\n`);
  }
  return exitCodeOf(err, site);
}
