import type { CommandSpec } from "../command.ts";

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

/** run's options that take no value: the CLI splits `IMAGE COMMAND...` off with this. */
export const RUN_BOOLEAN_FLAGS: ReadonlySet<string> = new Set(["rm", "interactive", "i", "tty", "t", "read-only", "privileged", "init", "help", "debug", "D"]);

export const run: CommandSpec = {
  command: "run <image> [command..]",
  describe: "Create and run a new container from an image",
  builder: (y) =>
    y
      .positional("image", { type: "string", describe: "IMAGE" })
      .positional("command", { type: "string", array: true, describe: "COMMAND [ARG...]" })
      .option("rm", { type: "boolean", default: false, describe: "Automatically remove the container when it exits" })
      .option("name", { type: "string", describe: "Assign a name to the container" })
      .option("interactive", { alias: "i", type: "boolean", default: false, describe: "Keep STDIN open" })
      .option("tty", { alias: "t", type: "boolean", default: false, describe: "Allocate a pseudo-TTY" })
      .option("env", { alias: "e", type: "string", array: true, describe: "Set environment variables" })
      .option("env-file", { type: "string", array: true, describe: "Read in a file of environment variables" })
      .option("user", { alias: "u", type: "string", describe: "Username or UID (format: <name|uid>[:<group|gid>])" })
      .option("group-add", { type: "string", array: true, describe: "Add additional groups to join" })
      .option("workdir", { alias: "w", type: "string", describe: "Working directory inside the container" })
      .option("hostname", { alias: "h", type: "string", describe: "Container host name" })
      .option("entrypoint", { type: "string", describe: "Overwrite the default ENTRYPOINT of the image" })
      .option("volume", { alias: "v", type: "string", array: true, describe: "Bind mount a volume" })
      .option("mount", { type: "string", array: true, describe: "Attach a filesystem mount to the container" })
      .option("tmpfs", { type: "string", array: true, describe: "Mount a tmpfs directory" })
      .option("read-only", { type: "boolean", default: false, describe: "Mount the container's root filesystem as read only" })
      .option("privileged", { type: "boolean", default: false, describe: "Give extended privileges to this container" })
      .option("cap-add", { type: "string", array: true, describe: "Add Linux capabilities" })
      .option("cap-drop", { type: "string", array: true, describe: "Drop Linux capabilities" })
      .option("security-opt", { type: "string", array: true, describe: "Security options (no-new-privileges, seccomp=unconfined)" })
      .option("ulimit", { type: "string", array: true, describe: "Ulimit options" })
      .option("memory", { alias: "m", type: "string", describe: "Memory limit" })
      .option("memory-swap", { type: "string", describe: "Swap limit equal to memory plus swap: -1 for unlimited" })
      .option("memory-swappiness", { type: "number", describe: "Tune container memory swappiness (0 to 100)" })
      .option("cpus", { type: "string", describe: "Number of CPUs" })
      .option("cpu-shares", { alias: "c", type: "number", describe: "CPU shares (relative weight)" })
      .option("cpuset-cpus", { type: "string", describe: "CPUs in which to allow execution (0-3, 0,1)" })
      .option("cpuset-mems", { type: "string", describe: "MEMs in which to allow execution (0-3, 0,1)" })
      .option("pids-limit", { type: "number", describe: "Tune container pids limit (set -1 for unlimited)" })
      .option("init", { type: "boolean", default: false, describe: "Run an init inside the container that forwards signals and reaps processes" })
      .option("network", { alias: "net", type: "string", default: "none", describe: 'Connect a container to a network (only "none" so far)' })
      .option("platform", { type: "string", describe: "Set platform if server is multi-platform capable" }),
  async run(ctx, argv, io) {
    const { runCommand } = await import("../../lifecycle/run-command.ts");
    return await runCommand(ctx, argv, io, { list, str });
  },
};
