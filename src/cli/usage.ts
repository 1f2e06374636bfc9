// A command-line usage error: Docker answers these with exit code 125.
import { InvalidArgumentError } from "../errors.ts";

export class UsageError extends InvalidArgumentError {}
