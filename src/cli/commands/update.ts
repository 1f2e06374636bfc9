import type { CommandSpec } from "../command.ts";
import { RUN_OPTIONS, yargsOption, type RunOption } from "./run.ts";
import { eachContainer } from "./each.ts";

/** The resource and restart flags `update` takes: run's own rows, so both verbs spell and describe them alike. */
const UPDATE_FLAGS = new Set(["blkio-weight", "cpu-period", "cpu-quota", "cpu-shares", "cpus", "cpuset-cpus", "cpuset-mems", "memory", "memory-reservation", "memory-swap", "pids-limit", "restart"]);
const OPTIONS: readonly RunOption[] = RUN_OPTIONS.filter((o) => UPDATE_FLAGS.has(o.name)).sort((a, b) => a.name.localeCompare(b.name));

export const update: CommandSpec = {
  command: "update <containers..>",
  describe: "Update configuration of one or more containers",
  builder: (y) => {
    y.positional("containers", { type: "string", array: true, describe: "CONTAINER" });
    for (const o of OPTIONS) y.option(o.name, yargsOption(o));
    return y;
  },
  async run(ctx, argv, io) {
    const { InvalidArgumentError } = await import("../../errors.ts");
    const given = OPTIONS.filter((o) => argv[o.name] !== undefined);
    if (given.length === 0) throw new InvalidArgumentError("you must provide one or more flags when using this command");
    const { parseResourceUpdate } = await import("../../runtime/resource-update.ts");
    const { parseRestartPolicy } = await import("../../lifecycle/run-options.ts");
    const { updateContainer } = await import("../../lifecycle/update.ts");
    const os = await import("node:os");
    const s = (name: string) => (argv[name] === undefined ? undefined : String(argv[name]));
    const resources = parseResourceUpdate(
      {
        memory: s("memory"),
        memorySwap: s("memory-swap"),
        memoryReservation: s("memory-reservation"),
        cpus: s("cpus"),
        cpuShares: s("cpu-shares"),
        cpuPeriod: s("cpu-period"),
        cpuQuota: s("cpu-quota"),
        cpusetCpus: s("cpuset-cpus"),
        cpusetMems: s("cpuset-mems"),
        pidsLimit: s("pids-limit"),
        blkioWeight: s("blkio-weight"),
      },
      os.availableParallelism(),
    );
    const restart = s("restart");
    const req = { resources, ...(restart !== undefined && restart !== "" ? { restart: parseRestartPolicy(restart) } : {}) };
    const warnings: string[] = [];
    const code = await eachContainer(ctx, argv.containers, io, async (c) => {
      for (const w of await updateContainer(ctx, c, req)) if (!warnings.includes(w)) warnings.push(w);
    });
    // After the names, as Docker's CLI prints the daemon's warnings.
    if (warnings.length) io.out(`${warnings.join("\n")}\n`);
    return code;
  },
};
