// `container <verb>`: the management-command spelling of the container verbs, plus prune and the
// hidden `container cleanup <id>` the supervisor runs when a container ends for good.
import type { ContainerRecord } from "../../store/containers.ts";
import type { CommandSpec, Io } from "../command.ts";
import { attach } from "./attach.ts";
import { commit } from "./commit.ts";
import { cp } from "./cp.ts";
import { create } from "./create.ts";
import { diff } from "./diff.ts";
import { exec } from "./exec.ts";
import { exportCmd } from "./export.ts";
import { containerExists } from "./exists.ts";
import { containerInspect } from "./inspect.ts";
import { kill } from "./kill.ts";
import { logs } from "./logs.ts";
import { pause } from "./pause.ts";
import { port } from "./port.ts";
import { containerLs } from "./ps.ts";
import { rename } from "./rename.ts";
import { restart } from "./restart.ts";
import { containerRm } from "./rm.ts";
import { run } from "./run.ts";
import { start } from "./start.ts";
import { stats } from "./stats.ts";
import { stop } from "./stop.ts";
import { top } from "./top.ts";
import { unpause } from "./unpause.ts";
import { update } from "./update.ts";
import { wait } from "./wait.ts";

/** Docker's [y/N] prompt, answered from stdin; anything but y/yes is no. */
export async function confirm(io: Io, warning: string): Promise<boolean> {
  io.out(`${warning}\nAre you sure you want to continue? [y/N] `);
  const answer = (await io.readStdin()).split("\n")[0]!.trim().toLowerCase();
  return answer === "y" || answer === "yes";
}

/** Docker's prune filters: until=, label=, label! over a container's record. */
async function pruneFilter(specs: string[], now: number): Promise<(rec: ContainerRecord) => boolean> {
  const { keep } = (await import("../filters.ts")).pruneFilters(specs, now);
  return (rec) => keep(rec.created, () => rec.labels ?? (rec.config?.Labels as Record<string, string> | undefined));
}

export const containerPrune: CommandSpec = {
  command: "prune",
  describe: "Remove all stopped containers",
  builder: (y) =>
    y
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Do not prompt for confirmation" })
      .option("filter", { type: "string", array: true, describe: 'Provide filter values (e.g. "until=<timestamp>", "label=k=v")' }),
  async run(ctx, argv, io) {
    const keep = await pruneFilter(((argv.filter as string[] | undefined) ?? []).map(String), ctx.clock());
    if (!argv.force && !(await confirm(io, "WARNING! This will remove all stopped containers."))) return;
    const { pruneContainers } = await import("../../lifecycle/reconcile.ts");
    const { humanSize } = await import("../format.ts");
    const res = await pruneContainers(ctx, keep);
    if (res.deleted.length) io.out(`Deleted Containers:\n${res.deleted.map((d) => `${d}\n`).join("")}\n`);
    io.out(`Total reclaimed space: ${humanSize(res.bytes)}\n`);
  },
};

/** Hidden: run by the supervisor (monitor) as its last act, with the container's id. */
export const containerCleanup: CommandSpec = {
  command: "cleanup <id>",
  describe: false as unknown as string,
  async run(ctx, argv) {
    const { cleanupContainer } = await import("../../lifecycle/remove.ts");
    await cleanupContainer(ctx, String(argv.id));
  },
};

export const containerSubcommands: CommandSpec[] = [
  containerLs,
  containerInspect,
  logs,
  stop,
  kill,
  containerRm,
  wait,
  rename,
  top,
  stats,
  pause,
  unpause,
  cp,
  exportCmd,
  containerPrune,
  containerCleanup,
  attach,
  create,
  exec,
  port,
  restart,
  run,
  start,
  containerExists,
  commit,
  diff,
  update,
];
