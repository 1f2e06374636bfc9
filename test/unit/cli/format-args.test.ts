// The yargs-free readings of `info`, `version` and `volume ls` agree with yargs' own.
import { parseFormatOnlyArgs, parseVolumeLsArgs } from "../../../src/cli/format-args.ts";
import { readsAsYargs } from "./fast-args.ts";

const KEYS = ["quiet", "filter", "format"];
const pick = (argv: Record<string, unknown>) => Object.fromEntries(KEYS.filter((k) => argv[k] !== undefined && argv[k] !== false).map((k) => [k, argv[k]]));
const fast = (args: string[]) => (args[0] === "volume" ? parseVolumeLsArgs(args) : parseFormatOnlyArgs(args, args[0]!));

const SAME: string[][] = [
  ["info"],
  ["info", "--format", "{{.ServerVersion}}"],
  ["info", "-f", "json"],
  ["info", "--format={{.ID}} {{.Name}}"],
  ["version"],
  ["version", "-f", "{{.Client.Version}}"],
  ["volume", "ls"],
  ["volume", "list", "-q"],
  ["volume", "ls", "--quiet", "--filter", "name=a", "-f", "label=x=y", "--filter=dangling=true"],
  ["volume", "ls", "--format", "json"],
  ["volume", "ls", "--format=table {{.Name}}"],
];

const LEFT: string[][] = [
  ["info", "--help"],
  ["info", "-f"],
  ["info", "extra"],
  ["info", "-f", "a", "-f", "b"],
  ["version", "--debug"],
  ["volume", "ls", "--help"],
  ["volume", "ls", "-x"],
  ["volume", "ls", "--format"],
  ["volume", "ls", "--format", "a", "--format", "b"],
  ["volume", "ls", "extra"],
  ["volume", "rm", "x"],
  ["volume"],
];
readsAsYargs(fast, pick, SAME, LEFT);
