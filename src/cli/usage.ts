// A command-line usage error: Docker answers these with exit code 125 and a pointer to the help.
import { InvalidArgumentError } from "../errors.ts";

export class UsageError extends InvalidArgumentError {
  /** The command whose help to point at ("stop", "network create"); the chosen one when unset. */
  command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}
