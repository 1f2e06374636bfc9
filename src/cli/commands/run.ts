import { list, str } from "../values.ts";
import type { Options } from "yargs";
import type { CommandSpec } from "../command.ts";
import { flagLabel, intFlag } from "../flags.ts";


/** One of run's options: the builder (through yargsOption) and parseRunArgs share this table. */
export interface RunOption {
  name: string;
  alias?: string;
  /** An "int" is a string to yargs, checked and converted by intFlag. */
  type: "boolean" | "string" | "int";
  array?: boolean;
  default?: boolean | string;
  describe: string;
}

/** run's options in --help order. */
export const RUN_OPTIONS: readonly RunOption[] = [
  { name: "detach", alias: "d", type: "boolean", default: false, describe: "Run container in background and print container ID" },
  { name: "rm", type: "boolean", default: false, describe: "Automatically remove the container when it exits" },
  { name: "name", type: "string", describe: "Assign a name to the container" },
  { name: "interactive", alias: "i", type: "boolean", default: false, describe: "Keep STDIN open" },
  { name: "tty", alias: "t", type: "boolean", default: false, describe: "Allocate a pseudo-TTY" },
  { name: "env", alias: "e", type: "string", array: true, describe: "Set environment variables" },
  { name: "env-file", type: "string", array: true, describe: "Read in a file of environment variables" },
  { name: "user", alias: "u", type: "string", describe: "Username or UID (format: <name|uid>[:<group|gid>])" },
  { name: "group-add", type: "string", array: true, describe: "Add additional groups to join" },
  { name: "workdir", alias: "w", type: "string", describe: "Working directory inside the container" },
  { name: "hostname", alias: "h", type: "string", describe: "Container host name" },
  { name: "entrypoint", type: "string", describe: "Overwrite the default ENTRYPOINT of the image" },
  { name: "volume", alias: "v", type: "string", array: true, describe: "Bind mount a volume" },
  { name: "mount", type: "string", array: true, describe: "Attach a filesystem mount to the container" },
  { name: "tmpfs", type: "string", array: true, describe: "Mount a tmpfs directory" },
  { name: "read-only", type: "boolean", default: false, describe: "Mount the container's root filesystem as read only" },
  { name: "privileged", type: "boolean", default: false, describe: "Give extended privileges to this container" },
  { name: "device", type: "string", array: true, describe: "Add a host device to the container (HOST[:CONTAINER][:rwm])" },
  { name: "cap-add", type: "string", array: true, describe: "Add Linux capabilities" },
  { name: "cap-drop", type: "string", array: true, describe: "Drop Linux capabilities" },
  { name: "security-opt", type: "string", array: true, describe: "Security options (no-new-privileges, seccomp=unconfined)" },
  { name: "ulimit", type: "string", array: true, describe: "Ulimit options" },
  { name: "memory", alias: "m", type: "string", describe: "Memory limit" },
  { name: "memory-swap", type: "string", describe: "Swap limit equal to memory plus swap: -1 for unlimited" },
  { name: "memory-swappiness", type: "int", describe: "Tune container memory swappiness (0 to 100)" },
  { name: "cpus", type: "string", describe: "Number of CPUs" },
  { name: "cpu-shares", alias: "c", type: "int", describe: "CPU shares (relative weight)" },
  { name: "cpuset-cpus", type: "string", describe: "CPUs in which to allow execution (0-3, 0,1)" },
  { name: "cpuset-mems", type: "string", describe: "MEMs in which to allow execution (0-3, 0,1)" },
  { name: "pids-limit", type: "int", describe: "Tune container pids limit (set -1 for unlimited)" },
  { name: "init", type: "boolean", default: false, describe: "Run an init inside the container that forwards signals and reaps processes" },
  { name: "network", alias: "net", type: "string", default: "bridge", describe: "Connect a container to a network (bridge, none, host, container:NAME|ID, NAME)" },
  { name: "network-alias", alias: "net-alias", type: "string", array: true, describe: "Add network-scoped alias for the container" },
  { name: "ip", type: "string", describe: "IPv4 address (e.g., 172.30.100.104)" },
  { name: "link-local-ip", type: "string", array: true, describe: "Container IPv4/IPv6 link-local addresses" },
  { name: "dns", type: "string", array: true, describe: "Set custom DNS servers" },
  { name: "dns-search", type: "string", array: true, describe: "Set custom DNS search domains" },
  { name: "dns-option", type: "string", array: true, describe: "Set DNS options" },
  { name: "add-host", type: "string", array: true, describe: "Add a custom host-to-IP mapping (host:ip)" },
  { name: "publish", alias: "p", type: "string", array: true, describe: "Publish a container's port(s) to the host" },
  { name: "publish-all", alias: "P", type: "boolean", default: false, describe: "Publish all exposed ports to random ports" },
  { name: "platform", type: "string", describe: "Set platform if server is multi-platform capable" },
  { name: "restart", type: "string", describe: "Restart policy to apply when a container exits (no, always, on-failure[:N], unless-stopped)" },
  { name: "log-opt", type: "string", array: true, describe: "Log driver options (max-size, max-file)" },
  { name: "label", alias: "l", type: "string", array: true, describe: "Set meta data on a container" },
  { name: "label-file", type: "string", array: true, describe: "Read in a line delimited file of labels" },
  { name: "pull", type: "string", default: "missing", describe: 'Pull image before running ("always", "missing", "never")' },
  { name: "cidfile", type: "string", describe: "Write the container ID to the file" },
  { name: "attach", alias: "a", type: "string", array: true, describe: "Attach to STDIN, STDOUT or STDERR" },
  { name: "sig-proxy", type: "boolean", default: true, describe: "Proxy received signals to the process" },
  { name: "stop-signal", type: "string", describe: "Signal to stop the container" },
  { name: "stop-timeout", type: "int", describe: "Timeout (in seconds) to stop a container" },
  { name: "shm-size", type: "string", describe: "Size of /dev/shm" },
  { name: "device-cgroup-rule", type: "string", array: true, describe: "Add a rule to the cgroup allowed devices list" },
  { name: "sysctl", type: "string", array: true, describe: "Sysctl options" },
  { name: "ipc", type: "string", describe: "IPC mode to use (private, shareable, host, none, container:NAME)" },
  { name: "pid", type: "string", describe: "PID namespace to use (host)" },
  { name: "uts", type: "string", describe: "UTS namespace to use (host, container:NAME)" },
  { name: "cgroupns", type: "string", describe: 'Cgroup namespace to use ("host", "private")' },
  { name: "expose", type: "string", array: true, describe: "Expose a port or a range of ports" },
  { name: "log-driver", type: "string", describe: "Logging driver for the container (json-file, local, none)" },
  { name: "dns-opt", type: "string", array: true, describe: "Set DNS options (alias of --dns-option)" },
  { name: "mac-address", type: "string", describe: "Container MAC address (e.g., 92:d0:c6:0a:29:33)" },
  { name: "replace", type: "boolean", default: false, describe: "Remove a container that has the same --name first (podman)" },
  { name: "health-cmd", type: "string", describe: "Command to run to check health" },
  { name: "health-interval", type: "string", describe: "Time between running the check (ms|s|m|h) (default 0s)" },
  { name: "health-timeout", type: "string", describe: "Maximum time to allow one check to run (ms|s|m|h) (default 0s)" },
  { name: "health-start-period", type: "string", describe: "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)" },
  { name: "health-start-interval", type: "string", describe: "Time between running the check during the start period (ms|s|m|h) (default 0s)" },
  { name: "health-retries", type: "int", describe: "Consecutive failures needed to report unhealthy" },
  { name: "no-healthcheck", type: "boolean", default: false, describe: "Disable any container-specified HEALTHCHECK" },
  { name: "pod", type: "string", describe: "Run container in an existing pod (NAME), or a new one (new:NAME)" },
  { name: "quiet", alias: "q", type: "boolean", default: false, describe: "Suppress the pull output" },
  { name: "memory-reservation", type: "string", describe: "Memory soft limit" },
  { name: "kernel-memory", type: "string", describe: "Kernel memory limit (deprecated: accepted with a warning, no effect)" },
  { name: "oom-kill-disable", type: "boolean", default: false, describe: "Disable OOM Killer" },
  { name: "oom-score-adj", type: "int", describe: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: "cpu-period", type: "int", describe: "Limit CPU CFS (Completely Fair Scheduler) period" },
  { name: "cpu-quota", type: "int", describe: "Limit CPU CFS (Completely Fair Scheduler) quota" },
  { name: "cpu-rt-period", type: "int", describe: "Limit CPU real-time period in microseconds" },
  { name: "cpu-rt-runtime", type: "int", describe: "Limit CPU real-time runtime in microseconds" },
  { name: "cpu-count", type: "int", describe: "CPU count (Windows only: refused)" },
  { name: "cpu-percent", type: "int", describe: "CPU percent (Windows only: refused)" },
  { name: "blkio-weight", type: "int", describe: "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)" },
  { name: "blkio-weight-device", type: "string", array: true, describe: "Block IO weight (relative device weight)" },
  { name: "device-read-bps", type: "string", array: true, describe: "Limit read rate (bytes per second) from a device" },
  { name: "device-write-bps", type: "string", array: true, describe: "Limit write rate (bytes per second) to a device" },
  { name: "device-read-iops", type: "string", array: true, describe: "Limit read rate (IO per second) from a device" },
  { name: "device-write-iops", type: "string", array: true, describe: "Limit write rate (IO per second) to a device" },
  { name: "io-maxbandwidth", type: "string", describe: "Maximum IO bandwidth limit for the system drive (Windows only: refused)" },
  { name: "io-maxiops", type: "string", describe: "Maximum IOps limit for the system drive (Windows only: refused)" },
  { name: "annotation", type: "string", array: true, describe: "Add an annotation to the container (passed through to the OCI runtime)" },
  { name: "domainname", type: "string", describe: "Container NIS domain name" },
  { name: "isolation", type: "string", describe: "Container isolation technology (default only)" },
  { name: "runtime", type: "string", describe: "Runtime to use for this container (runc)" },
  { name: "userns", type: "string", describe: "User namespace to use (host)" },
  { name: "volume-driver", type: "string", describe: "Optional volume driver for the container (local)" },
  { name: "detach-keys", type: "string", describe: "Override the key sequence for detaching a container" },
  { name: "disable-content-trust", type: "boolean", default: true, describe: "Skip image verification" },
  { name: "gpus", type: "string", describe: "GPU devices to add to the container (refused: no GPU support)" },
  { name: "storage-opt", type: "string", array: true, describe: "Storage driver options for the container (refused: overlay not on xfs with pquota)" },
  { name: "cgroup-parent", type: "string", describe: "Optional parent cgroup for the container" },
  { name: "ip6", type: "string", describe: "IPv6 address (refused: IPv4 networks only)" },
  { name: "volumes-from", type: "string", array: true, describe: "Mount volumes from the specified container(s)" },
  { name: "link", type: "string", array: true, describe: "Add link to another container" },
  { name: "use-api-socket", type: "boolean", default: false, describe: "Bind mount Docker API socket (refused: daemonless)" },
];

/** run's options that take no value: the CLI splits `IMAGE COMMAND...` off with this. */
export const RUN_BOOLEAN_FLAGS = booleanFlags(RUN_OPTIONS);

export function booleanFlags(options: readonly RunOption[]): ReadonlySet<string> {
  return new Set([...options.filter((o) => o.type === "boolean").flatMap((o) => (o.alias ? [o.name, o.alias] : [o.name])), "help", "debug", "D"]);
}

/** A RunOption as yargs' .option() takes it. */
export function yargsOption(o: RunOption): Options {
  const { name: _, type, ...rest } = o;
  return type === "int" ? { ...rest, type: "string", coerce: intFlag(flagLabel(o.name, o.alias)) } : { ...rest, type };
}

/** run's and create's spec: the same IMAGE COMMAND positionals, --replace and --pod; `verb` is what acts. */
export function containerSpec(command: string, describe: string, options: readonly RunOption[], verb: "runCommand" | "createCommand"): CommandSpec {
  return {
    command,
    describe,
    engine: true,
    builder: (y) => {
      y.positional("image", { type: "string", describe: "IMAGE" }).positional("command", { type: "string", array: true, describe: "COMMAND [ARG...]" });
      for (const o of options) y.option(o.name, yargsOption(o));
      return y;
    },
    async run(ctx, argv, io) {
      if (argv.replace === true) await (await import("./replace.ts")).replaceNamed(ctx, argv);
      const act = (await import("../run-command.ts"))[verb];
      const adjust = argv.pod === undefined ? undefined : async (req: import("../../lifecycle/run/request.ts").RunRequest) => (await import("../../pod/join.ts")).joinPod(ctx, req, String(argv.pod));
      return await act(ctx, argv, io, { list, str, ...(adjust ? { adjust } : {}) });
    },
  };
}

export const run = containerSpec("run <image> [command..]", "Create and run a new container from an image", RUN_OPTIONS, "runCommand");
