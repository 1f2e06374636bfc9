// The yargs-free readings of `info`, `version`, `volume ls` and `inspect` agree with yargs' own.
import { parseFormatOnlyArgs, parseInspectArgs, parseVolumeLsArgs } from "../../../src/cli/format-args.ts";
import { readsAsYargs } from "./fast-args.ts";

const KEYS = ["quiet", "filter", "format", "names", "type", "size"];
const pick = (argv: Record<string, unknown>) => Object.fromEntries(KEYS.filter((k) => argv[k] !== undefined && argv[k] !== false).map((k) => [k, argv[k]]));
const fast = (args: string[]) => (args[0] === "volume" ? parseVolumeLsArgs(args) : args[0] === "inspect" ? parseInspectArgs(args) : parseFormatOnlyArgs(args, args[0]!));

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
  ["inspect", "web"],
  ["inspect", "a", "b", "0123"],
  ["inspect", "-f", "{{.State.Status}}", "web"],
  ["inspect", "web", "--format", "json", "other"],
  ["inspect", "--format={{.Id}}", "--type", "container", "-s", "web"],
  ["inspect", "--type=image", "busybox"],
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
  ["inspect"],
  ["inspect", "-f", "x"],
  ["inspect", "--type", "volume", "x"],
  ["inspect", "-f", "a", "-f", "b", "x"],
  ["inspect", "--help"],
  ["inspect", "--", "x"],
  ["inspect", "-x", "web"],
];
readsAsYargs(fast, pick, SAME, LEFT);
