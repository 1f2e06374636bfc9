// The shape of one CLI verb. Command files stay thin: parse arguments into a request, call the
// engine, print. Heavy modules are imported inside `run`, so `--help` and `--version` load nothing.
import type { Argv } from "yargs";
import type { Ctx } from "../context.ts";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  stdoutTty: boolean;
  stderrTty: boolean;
  readStdin: () => Promise<string>;
}

export interface CommandSpec {
  command: string | string[];
  describe: string;
  builder?: (y: Argv) => Argv;
  /** How many arguments it takes, where its command string says otherwise (exec's command is cut off before yargs reads the line). */
  args?: { min: number; max: number };
  /** Its failures are the engine's, not the command's: Docker's 125 for run and create (see exit.ts). */
  engine?: boolean;
  /** Returns the exit code (0 when omitted). */
  run: (ctx: Ctx, argv: Record<string, unknown>, io: Io) => Promise<number | void>;
}
