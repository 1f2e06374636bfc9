// `pod` and its subcommands, as podman names them. Thin: src/pod/ does the work.
import type { Ctx } from "../../context.ts";
import { list } from "../values.ts";
import { ParseError } from "../../errors.ts";
import type { CommandSpec, Io } from "../command.ts";


const create: CommandSpec = {
  command: "create",
  describe: "Create a new empty pod",
  builder: (y) =>
    y
      .option("name", { alias: "n", type: "string", describe: "Assign a name to the pod" })
      .option("publish", { alias: "p", type: "string", array: true, describe: "Publish a port or a range of ports of the pod to the host" })
      .option("label", { alias: "l", type: "string", array: true, describe: "Set metadata on a pod" })
      .option("hostname", { type: "string", describe: "Set the pod's hostname" })
      .option("share", { type: "string", describe: "Namespaces to share: net, ipc, uts (default all three)" })
      .option("network", { alias: "net", type: "string", describe: "The pod's network: bridge, a user network, none (lo only) or host" }),
  async run(ctx, argv, io) {
    const { createPod } = await import("../../pod/create.ts");
    const { parseLabels } = await import("../../lifecycle/run-options.ts");
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const name = str(argv.name);
    const hostname = str(argv.hostname);
    const share = str(argv.share);
    const network = str(argv.network);
    const pod = await createPod(ctx, {
      ...(name !== undefined ? { name } : {}),
      ...(hostname !== undefined ? { hostname } : {}),
      ...(share !== undefined ? { share } : {}),
      ...(network !== undefined ? { network } : {}),
      publish: list(argv.publish),
      labels: parseLabels(list(argv.label)),
    });
    io.out(`${pod.id}\n`);
  },
};

const ps: CommandSpec = {
  command: ["ps", "ls", "list"],
  describe: "List pods",
  builder: (y) =>
    y
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Only display pod IDs" })
      .option("no-trunc", { type: "boolean", default: false, describe: "Do not truncate pod IDs" })
      .option("filter", { alias: "f", type: "string", array: true, describe: "Filter output (name=, id=, label=, status=, network=, ctr-names=, ctr-ids=, ctr-status=, ctr-number=)" })
      .option("format", { type: "string", describe: 'Format output: "table", "json", or a Go template' }),
  async run(ctx, argv, io) {
    const { listPods, podContainers, podStatus } = await import("../../pod/pods.ts");
    const { podRows, parsePodFilters, podMatches } = await import("../views/pods.ts");
    const { listLive } = await import("../../lifecycle/live.ts");
    const { renderList } = await import("../listing.ts");
    const filters = parsePodFilters(list(argv.filter));
    const live = listLive(ctx);
    const noTrunc = Boolean(argv["no-trunc"]);
    const pods = listPods(ctx.root)
      .map((p) => {
        const members = podContainers(ctx, p, live);
        return { pod: p, members, status: podStatus(ctx, p, members) };
      })
      .filter((v) => podMatches(v, filters))
      .sort((a, b) => b.pod.created.localeCompare(a.pod.created));
    if (argv.quiet) return void io.out(pods.map((v) => `${noTrunc ? v.pod.id : v.pod.id.slice(0, 12)}\n`).join(""));
    const rows = podRows(pods, { noTrunc, now: ctx.clock() });
    io.out(
      renderList(
        typeof argv.format === "string" ? argv.format : undefined,
        rows,
        { ID: "POD ID", Name: "NAME", Status: "STATUS", Ready: "READY", Created: "CREATED", InfraID: "INFRA ID", NumberOfContainers: "# OF CONTAINERS", Labels: "LABELS", Networks: "NETWORKS" },
        "table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Ready}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}",
      ),
    );
  },
};

const inspect: CommandSpec = {
  command: "inspect <pods..>",
  describe: "Display information on one or more pods",
  builder: (y) => y.option("format", { alias: "f", type: "string", describe: "Format the output using the given Go template" }),
  async run(ctx, argv, io) {
    const { findPod, podContainers, podStatus, podInfra } = await import("../../pod/pods.ts");
    const { inspectPod } = await import("../views/pods.ts");
    const { renderOne } = await import("../listing.ts");
    const { describeError } = await import("../../errors.ts");
    const out: object[] = [];
    let code = 0;
    for (const ref of list(argv.pods)) {
      try {
        const pod = findPod(ctx.root, ref);
        const members = podContainers(ctx, pod);
        out.push(inspectPod(pod, members, podStatus(ctx, pod, members), podInfra(ctx, pod)));
      } catch (err) {
        io.err(`Error: ${describeError(err)}\n`);
        code = 125;
      }
    }
    if (typeof argv.format === "string") for (const o of out) io.out(renderOne(argv.format, o));
    else io.out(`${JSON.stringify(out, null, 4)}\n`);
    return code;
  },
};

/** A verb over each named pod: its id printed on success, an error line per failure. */
async function eachPod(io: Io, refs: unknown, fn: (ref: string) => Promise<{ id: string }>): Promise<number> {
  const { describeError } = await import("../../errors.ts");
  let code = 0;
  for (const ref of list(refs)) {
    try {
      io.out(`${(await fn(ref)).id}\n`);
    } catch (err) {
      io.err(`Error: ${describeError(err)}\n`);
      code = 125;
    }
  }
  return code;
}

const verb = (name: string, describe: string, builder: CommandSpec["builder"], fn: (ctx: Ctx, ref: string, argv: Record<string, unknown>) => Promise<{ id: string }>): CommandSpec => ({
  command: `${name} <pods..>`,
  describe,
  ...(builder ? { builder } : {}),
  run: async (ctx, argv, io) => await eachPod(io, argv.pods, (ref) => fn(ctx, ref, argv)),
});

/** -t: whole seconds (-1 waits forever, as stop's). */
function timeOf(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(String(v))) throw new ParseError(`Cannot parse --time "${String(v)}": not a whole number of seconds`);
  return Number(v);
}

const start = verb("start", "Start one or more pods", undefined, async (ctx, ref) => (await import("../../pod/pods.ts")).startPod(ctx, ref));
const stop = verb(
  "stop",
  "Stop one or more pods",
  (y) => y.option("time", { alias: "t", type: "string", describe: "Seconds to wait before killing the containers" }),
  async (ctx, ref, argv) => (await import("../../pod/pods.ts")).stopPod(ctx, ref, timeOf(argv.time)),
);
const restart = verb("restart", "Restart one or more pods", (y) => y.option("time", { alias: "t", type: "string", describe: "Seconds to wait before killing the containers" }), async (ctx, ref, argv) => {
  const pods = await import("../../pod/pods.ts");
  await pods.stopPod(ctx, ref, timeOf(argv.time));
  return await pods.startPod(ctx, ref);
});
const kill = verb(
  "kill",
  "Send a signal to the containers of one or more pods",
  (y) => y.option("signal", { alias: "s", type: "string", default: "KILL", describe: "Signal to send" }),
  async (ctx, ref, argv) => (await import("../../pod/pods.ts")).killPod(ctx, ref, String(argv.signal)),
);
const rm = verb(
  "rm",
  "Remove one or more pods",
  (y) => y.option("force", { alias: "f", type: "boolean", default: false, describe: "Stop and remove running containers too" }),
  async (ctx, ref, argv) => (await import("../../pod/pods.ts")).removePod(ctx, ref, { force: Boolean(argv.force) }),
);

const logs: CommandSpec = {
  command: "logs <pod>",
  describe: "Fetch the logs of a pod's containers",
  builder: (y) =>
    y
      .option("container", { alias: "c", type: "string", describe: "Only this container's logs" })
      .option("follow", { alias: "f", type: "boolean", default: false, describe: "Follow log output" })
      .option("tail", { type: "string", default: "all", describe: "Number of lines to show from the end of each container's logs" })
      .option("timestamps", { alias: "t", type: "boolean", default: false, describe: "Show timestamps" })
      .option("names", { alias: "n", type: "boolean", default: false, describe: "Prefix lines with container names instead of IDs" })
      .option("since", { type: "string", describe: "Show logs since a timestamp or relative (e.g. 42m)" })
      .option("until", { type: "string", describe: "Show logs before a timestamp or relative (e.g. 42m)" }),
  async run(ctx, argv, io) {
    const { findPod, podContainers } = await import("../../pod/pods.ts");
    const { showLogs, parseLogSelection } = await import("../../lifecycle/logs.ts");
    const { rereadLive } = await import("../../lifecycle/live.ts");
    const { containerPaths } = await import("../../store/containers.ts");
    const { NotFoundError } = await import("../../errors.ts");
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const sel = parseLogSelection({ tail: String(argv.tail), since: str(argv.since), until: str(argv.until) }, ctx.clock());
    const pod = findPod(ctx.root, String(argv.pod));
    let members = podContainers(ctx, pod);
    const only = str(argv.container);
    if (only !== undefined) {
      members = members.filter((c) => c.record.name === only || c.record.id.startsWith(only) || c.record.name === `${pod.name}-${only}`);
      if (members.length === 0) throw new NotFoundError(`No such container: ${only} in pod ${pod.name}`);
    }
    // podman's: lines carry their container's short ID (or name, -n) when several containers show.
    const multi = members.length > 1;
    const sources = members.map((c) => ({
      id: c.record.id,
      dir: containerPaths(ctx.root, c.record.id).dir,
      prefix: multi ? `${argv.names ? c.record.name : c.record.id.slice(0, 12)} ` : "",
      running: () => rereadLive(ctx, c.record.id)?.state.Running ?? false,
    }));
    await showLogs(sources, { sel, timestamps: Boolean(argv.timestamps), follow: Boolean(argv.follow), sleep: ctx.sleep, out: io.out, err: io.err });
  },
};

const top: CommandSpec = {
  command: "top <pod> [psOptions..]",
  describe: "Display the running processes of a pod's containers",
  async run(ctx, argv, io) {
    const { findPod, podContainers } = await import("../../pod/pods.ts");
    const { topContainer } = await import("../../lifecycle/top.ts");
    const { table } = await import("../format.ts");
    const pod = findPod(ctx.root, String(argv.pod));
    let titles: string[] = [];
    const rows: string[][] = [];
    for (const c of podContainers(ctx, pod).filter((c) => c.state.Running)) {
      const r = topContainer(ctx, c, list(argv.psOptions));
      titles = ["CONTAINER", ...r.titles];
      for (const p of r.processes) rows.push([c.record.name, ...p]);
    }
    if (titles.length === 0) titles = ["CONTAINER", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];
    io.out(table(titles, rows));
  },
};

// podman's verbs, podman's exit code: any failure of a pod verb (bad input, a port in use, a
// missing pod) is the engine's, 125.
export const podSubcommands: readonly CommandSpec[] = [create, ps, inspect, start, stop, restart, kill, rm, logs, top].map((s) => ({ ...s, engine: true }));
