// `info`, `version`, `volume ls`, `inspect`, `push`, `pod create`, `play kube` and the hidden `kube
// sync-services` parsed without yargs, whose start-up would be most of their cost (CI scripts poll
// `info --format '{{.ServerVersion}}'` for readiness; yargs was a quarter of a `play kube`'s CPU;
// a pod's monitor runs sync-services at every start and exit of its container). Only the spellings it
// is sure of: anything else (--help, an unknown flag, a missing value) returns null and yargs
// parses the line, with its errors.

interface Grammar {
  /** -q / --quiet → "quiet" */
  booleans: Record<string, string>;
  /** --format / -f → "format"; array ones collect every use */
  values: Record<string, { key: string; array?: boolean }>;
  /** Where positionals go (inspect's names); without, a positional is left to yargs. */
  positionals?: string;
}

const FORMAT_ONLY: Grammar = { booleans: {}, values: { "--format": { key: "format" }, "-f": { key: "format" } } };
const INSPECT: Grammar = {
  booleans: { "-s": "size", "--size": "size" },
  values: { "--format": { key: "format" }, "-f": { key: "format" }, "--type": { key: "type" } },
  positionals: "names",
};
const POD_CREATE: Grammar = {
  booleans: {},
  values: {
    "--name": { key: "name" },
    "-n": { key: "name" },
    "--hostname": { key: "hostname" },
    "--share": { key: "share" },
    "--network": { key: "network" },
    "--net": { key: "network" },
    "--publish": { key: "publish", array: true },
    "-p": { key: "publish", array: true },
    "--label": { key: "label", array: true },
    "-l": { key: "label", array: true },
  },
};
const PLAY_KUBE: Grammar = { booleans: { "--down": "down", "--replace": "replace" }, values: {}, positionals: "files" };
const PUSH: Grammar = { booleans: { "-q": "quiet", "--quiet": "quiet" }, values: {}, positionals: "images" };
const VOLUME_LS: Grammar = {
  booleans: { "-q": "quiet", "--quiet": "quiet" },
  values: { "--format": { key: "format" }, "--filter": { key: "filter", array: true }, "-f": { key: "filter", array: true } },
};

function parseWith(args: readonly string[], from: number, g: Grammar, argv: Record<string, unknown>): Record<string, unknown> | null {
  for (let i = from; i < args.length; i++) {
    const t = args[i]!;
    if (g.positionals && !t.startsWith("-")) {
      (argv[g.positionals] as string[]).push(t);
      continue;
    }
    const b = g.booleans[t];
    if (b) {
      argv[b] = true;
      continue;
    }
    const eq = t.startsWith("--") ? t.indexOf("=") : -1;
    const spec = g.values[eq > 0 ? t.slice(0, eq) : t];
    if (!spec) return null;
    const value = eq > 0 ? t.slice(eq + 1) : args[++i];
    // A value yargs could read as a flag: its call.
    if (value === undefined || (eq < 0 && value.startsWith("-"))) return null;
    if (spec.array) argv[spec.key] = [...((argv[spec.key] as string[] | undefined) ?? []), value];
    else if (argv[spec.key] !== undefined) return null;
    else argv[spec.key] = value;
  }
  return argv;
}

/** `args` is the whole command line ("info", …); {format?} or null. */
export function parseFormatOnlyArgs(args: readonly string[], verb: string): Record<string, unknown> | null {
  if (args[0] !== verb) return null;
  return parseWith(args, 1, FORMAT_ONLY, {});
}

/** `inspect [-f F] [--type container|image] [-s] NAME...`; the argv inspect reads, or null. */
export function parseInspectArgs(args: readonly string[]): Record<string, unknown> | null {
  if (args[0] !== "inspect") return null;
  const argv = parseWith(args, 1, INSPECT, { size: false, names: [] });
  // No name, or a --type yargs would refuse: yargs words the error.
  if (!argv || (argv.names as string[]).length === 0 || (argv.type !== undefined && argv.type !== "container" && argv.type !== "image")) return null;
  return argv;
}

/** `volume ls|list [-q] [--filter F]... [--format F]`; the argv volume ls reads, or null. */
export function parseVolumeLsArgs(args: readonly string[]): Record<string, unknown> | null {
  if (args[0] !== "volume" || (args[1] !== "ls" && args[1] !== "list")) return null;
  return parseWith(args, 2, VOLUME_LS, { quiet: false });
}

/** `push [-q] NAME[:TAG]`; the argv push reads, or null (yargs' start-up was ~40 ms of CPU before the first byte sent). */
export function parsePushArgs(args: readonly string[]): Record<string, unknown> | null {
  if (args[0] !== "push") return null;
  const argv = parseWith(args, 1, PUSH, { quiet: false, images: [] });
  const images = argv?.images as string[] | undefined;
  // None or several: yargs words the error.
  if (!argv || images!.length !== 1) return null;
  return { quiet: argv.quiet, image: images![0] };
}

/** `pod create` with its options spelt out; the argv pod create reads, or null. */
export function parsePodCreateArgs(args: readonly string[]): Record<string, unknown> | null {
  if (args[0] !== "pod" || args[1] !== "create") return null;
  return parseWith(args, 2, POD_CREATE, {});
}

/** `play kube FILE` or `kube play FILE`, with --down or --replace; the argv play kube reads, or null. */
export function parsePlayKubeArgs(args: readonly string[]): Record<string, unknown> | null {
  if (!((args[0] === "play" && args[1] === "kube") || (args[0] === "kube" && args[1] === "play"))) return null;
  const argv = parseWith(args, 2, PLAY_KUBE, { down: false, replace: false, files: [] });
  const files = argv?.files as string[] | undefined;
  // None or several: yargs words the error. `-` (stdin) never gets here: it reads as a flag.
  if (!argv || files!.length !== 1) return null;
  const { files: _, ...rest } = argv;
  return { ...rest, file: files![0] };
}

/** `kube sync-services`, exactly as the monitor's hook runs it (it takes nothing); {} or null. */
export function parseSyncServicesArgs(args: readonly string[]): Record<string, unknown> | null {
  return args.length === 2 && args[0] === "kube" && args[1] === "sync-services" ? {} : null;
}
