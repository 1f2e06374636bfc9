import type { CommandSpec } from "../command.ts";
import { yargsOption, type RunOption } from "./run.ts";
import { eachContainer } from "./each.ts";

const OPTIONS: RunOption[] = [
  { name: "blkio-weight", type: "int", describe: "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)" },
  { name: "cpu-period", type: "int", describe: "Limit CPU CFS (Completely Fair Scheduler) period" },
  { name: "cpu-quota", type: "int", describe: "Limit CPU CFS (Completely Fair Scheduler) quota" },
  { name: "cpu-shares", alias: "c", type: "int", describe: "CPU shares (relative weight)" },
  { name: "cpus", type: "string", describe: "Number of CPUs" },
  { name: "cpuset-cpus", type: "string", describe: "CPUs in which to allow execution (0-3, 0,1)" },
  { name: "cpuset-mems", type: "string", describe: "MEMs in which to allow execution (0-3, 0,1)" },
  { name: "memory", alias: "m", type: "string", describe: "Memory limit" },
  { name: "memory-reservation", type: "string", describe: "Memory soft limit" },
  { name: "memory-swap", type: "string", describe: "Swap limit equal to memory plus swap: -1 to enable unlimited swap" },
  { name: "pids-limit", type: "int", describe: "Tune container pids limit (set -1 for unlimited)" },
  { name: "restart", type: "string", describe: "Restart policy to apply when a container exits" },
];

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
