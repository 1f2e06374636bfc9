// Command-line errors, each with the help pointer. Docker's CLI gives pflag's flag errors (an
// unknown flag, a missing or bad value) exit code 125 (a StatusError), and cobra's checks of the
// arguments (their number, an unknown command) exit code 1 (a plain error).
import { InvalidArgumentError } from "../errors.ts";

export class UsageError extends InvalidArgumentError {
  /** The command whose help to point at ("stop", "network create"); the chosen one when unset. */
  command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** The wrong number of arguments, or a command that does not exist: exit code 1, as Docker's. */
export class ArgumentsError extends UsageError {}
