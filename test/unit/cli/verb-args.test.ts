// The yargs-free readings of `info`, `version`, `volume ls`, `inspect`, `push`, `pod create`, `play kube` and `kube sync-services` agree with yargs' own.
import { parseFormatOnlyArgs, parseInspectArgs, parsePlayKubeArgs, parsePodCreateArgs, parsePushArgs, parseSyncServicesArgs, parseVolumeLsArgs } from "../../../src/cli/verb-args.ts";
import { readsAsYargs } from "./fast-args.ts";

const KEYS = ["quiet", "filter", "format", "names", "type", "size", "name", "hostname", "share", "network", "publish", "label", "file", "down", "replace", "image"];
const pick = (argv: Record<string, unknown>) => Object.fromEntries(KEYS.filter((k) => argv[k] !== undefined && argv[k] !== false).map((k) => [k, argv[k]]));
const fast = (args: string[]) => {
  if (args[0] === "pod") return parsePodCreateArgs(args);
  if (args[0] === "push") return parsePushArgs(args);
  if (args[0] === "play" || args[0] === "kube") return parsePlayKubeArgs(args) ?? parseSyncServicesArgs(args);
  return args[0] === "volume" ? parseVolumeLsArgs(args) : args[0] === "inspect" ? parseInspectArgs(args) : parseFormatOnlyArgs(args, args[0]!);
};

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
  ["pod", "create"],
  ["pod", "create", "--name", "web"],
  ["pod", "create", "-n", "web", "--hostname", "h", "--share", "net,ipc", "--net", "mynet"],
  ["pod", "create", "--name=web", "--network=bridge", "-p", "8080:80", "--publish", "127.0.0.1:53:53/udp", "-l", "a=b", "--label", "c=d=e"],
  ["play", "kube", "pod.yaml"],
  ["play", "kube", "--down", "pod.yaml"],
  ["play", "kube", "pod.yaml", "--replace"],
  ["kube", "play", "/tmp/x.yml"],
  ["kube", "sync-services"],
  ["push", "127.0.0.1:5000/app:v1"],
  ["push", "-q", "app"],
  ["push", "busybox:latest", "--quiet"],
  ["push", "1234"],
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
  ["inspect", "-f", "-s", "web"],
  ["pod", "create", "--help"],
  ["pod", "create", "extra"],
  ["pod", "create", "--name"],
  ["pod", "create", "--name", "-x"],
  ["pod", "create", "-n", "a", "--name", "b"],
  ["pod", "create", "-D", "--name", "a"],
  ["pod", "rm", "a"],
  ["pod", "ps"],
  ["play", "kube"],
  ["play", "kube", "-"],
  ["play", "kube", "a.yaml", "b.yaml"],
  ["play", "kube", "--down=true", "a.yaml"],
  ["play", "kube", "--help"],
  ["kube", "generate", "a"],
  ["kube", "sync-services", "x"],
  ["kube", "sync-services", "--help"],
  ["push"],
  ["push", "a", "b"],
  ["push", "--help"],
  ["push", "-q"],
  ["push", "--quiet=false", "app"],
  ["push", "-a", "app"],
  ["push", "--", "app"],
];
readsAsYargs(fast, pick, SAME, LEFT);
