import { parsePsArgs } from "../../../src/cli/ps-args.ts";
import { readsAsYargs } from "./fast-args.ts";

const KEYS = ["all", "quiet", "latest", "no-trunc", "size", "filter", "format", "last", "noheading"];
const pick = (argv: Record<string, unknown>) => Object.fromEntries(KEYS.filter((k) => argv[k] !== undefined).map((k) => [k, argv[k]]));

const SAME: string[][] = [
  ["ps"],
  ["ps", "-a"],
  ["ps", "-aq"],
  ["ps", "-qa", "--no-trunc"],
  ["ps", "--all", "--quiet", "--latest", "--size"],
  ["ps", "-a", "--filter", "status=exited", "-f", "name=x", "--filter=label=a=b"],
  ["ps", "--format", "json"],
  ["ps", "--format={{.ID}} {{.Names}}"],
  ["ps", "-n", "3"],
  ["ps", "--last=2", "-l"],
  ["ps", "-n", "0123"],
  ["ps", "--format", "a", "--format", "b"],
  ["ps", "-n", "3", "--last", "1"],
  ["ps", "--noheading", "-a"],
];
const LEFT: string[][] = [["ps", "--help"], ["ps", "-x"], ["ps", "--format"], ["ps", "-n", "x"], ["ps", "-n", "1e3"], ["ps", "extra"], ["images"]];
readsAsYargs(parsePsArgs, pick, SAME, LEFT);
