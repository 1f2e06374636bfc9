// `network` and its subcommands, as Docker names them.
import type { CommandSpec } from "../command.ts";

const create: CommandSpec = {
  command: "create <name>",
  describe: "Create a network",
  builder: (y) =>
    y
      .positional("name", { type: "string" })
      .option("driver", { alias: "d", type: "string", default: "bridge", describe: 'Driver to manage the Network (only "bridge")' })
      .option("subnet", { type: "string", describe: "Subnet in CIDR format that represents a network segment" })
      .option("gateway", { type: "string", describe: "IPv4 Gateway for the master subnet" })
      .option("label", { type: "string", array: true, describe: "Set metadata on a network" }),
  async run(ctx, argv, io) {
    const { InvalidArgumentError } = await import("../../errors.ts");
    if (argv.driver !== "bridge") throw new InvalidArgumentError(`plugin "${String(argv.driver)}" not found`);
    const labels: Record<string, string> = {};
    for (const l of (argv.label as string[] | undefined) ?? []) {
      const i = l.indexOf("=");
      labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? "" : l.slice(i + 1);
    }
    const { createNetwork } = await import("../../network/networks.ts");
    const net = await createNetwork(ctx, {
      name: String(argv.name),
      ...(typeof argv.subnet === "string" ? { subnet: argv.subnet } : {}),
      ...(typeof argv.gateway === "string" ? { gateway: argv.gateway } : {}),
      labels,
    });
    io.out(`${net.id}\n`);
  },
};

const ls: CommandSpec = {
  command: ["ls", "list"],
  describe: "List networks",
  builder: (y) =>
    y
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Only display network IDs" })
      .option("no-trunc", { type: "boolean", default: false, describe: "Do not truncate the output" })
      .option("format", { type: "string", describe: 'Only "json" is supported' }),
  async run(ctx, argv, io) {
    const { listNetworks } = await import("../../network/networks.ts");
    const { table } = await import("../format.ts");
    const nets = listNetworks(ctx);
    const id = (i: string) => (argv["no-trunc"] ? i : i.slice(0, 12));
    if (argv.quiet) return void io.out(nets.map((n) => `${id(n.id)}\n`).join(""));
    if (argv.format === "json") {
      for (const n of nets) io.out(`${JSON.stringify({ ID: id(n.id), Name: n.name, Driver: n.driver, Scope: "local", CreatedAt: n.created })}\n`);
      return;
    }
    io.out(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], nets.map((n) => [id(n.id), n.name, n.driver, "local"])));
  },
};

const inspect: CommandSpec = {
  command: "inspect <networks..>",
  describe: "Display detailed information on one or more networks",
  builder: (y) => y.positional("networks", { type: "string", array: true }),
  async run(ctx, argv, io) {
    const { findNetwork } = await import("../../network/networks.ts");
    const { networkMembers } = await import("../../network/addresses.ts");
    const { inspectNetwork } = await import("../../network/inspect.ts");
    const { describeError } = await import("../../errors.ts");
    const out: unknown[] = [];
    let code = 0;
    for (const ref of argv.networks as string[]) {
      try {
        const net = findNetwork(ctx, String(ref));
        out.push(inspectNetwork(net, net.driver === "bridge" ? networkMembers(ctx, net) : []));
      } catch (err) {
        io.err(`Error: ${describeError(err)}\n`);
        code = 1;
      }
    }
    io.out(`${JSON.stringify(out, null, 4)}\n`);
    return code;
  },
};

const rm: CommandSpec = {
  command: ["rm <networks..>", "remove <networks..>"],
  describe: "Remove one or more networks",
  builder: (y) => y.positional("networks", { type: "string", array: true }).option("force", { alias: "f", type: "boolean", default: false }),
  async run(ctx, argv, io) {
    const { removeNetwork } = await import("../../network/remove.ts");
    const { describeError, isKind } = await import("../../errors.ts");
    let code = 0;
    for (const ref of argv.networks as string[]) {
      try {
        await removeNetwork(ctx, String(ref));
        io.out(`${ref}\n`);
      } catch (err) {
        if (argv.force && isKind(err, "NotFound")) continue;
        io.err(`Error: ${describeError(err)}\n`);
        code = 1;
      }
    }
    return code;
  },
};

const prune: CommandSpec = {
  command: "prune",
  describe: "Remove all unused networks (and the default bridge's device and rules while unused)",
  builder: (y) => y.option("force", { alias: "f", type: "boolean", default: false, describe: "Do not prompt for confirmation" }),
  async run(ctx, _argv, io) {
    const { listNetworks, PREDEFINED } = await import("../../network/networks.ts");
    const { networkMembers } = await import("../../network/addresses.ts");
    const { reconcileNetworks } = await import("../../network/reconcile.ts");
    const { removeNetwork } = await import("../../network/remove.ts");
    await reconcileNetworks(ctx);
    const deleted: string[] = [];
    for (const net of listNetworks(ctx)) {
      if (net.driver !== "bridge" || networkMembers(ctx, net).length) continue;
      const predefined = (PREDEFINED as readonly string[]).includes(net.name);
      try {
        await removeNetwork(ctx, net.name, { teardownDefault: predefined });
        if (!predefined) deleted.push(net.name);
      } catch {
        // gained a member since: keep it
      }
    }
    if (deleted.length) io.out(`Deleted Networks:\n${deleted.map((d) => `${d}\n`).join("")}`);
  },
};

const connect: CommandSpec = {
  command: "connect <network> <container>",
  describe: "Connect a container to a network",
  builder: (y) =>
    y
      .positional("network", { type: "string" })
      .positional("container", { type: "string" })
      .option("alias", { type: "string", array: true, describe: "Add network-scoped alias for the container" })
      .option("ip", { type: "string", describe: "IPv4 address (e.g., 172.30.100.104)" }),
  async run(ctx, argv) {
    const { connectNetwork } = await import("../../network/connect.ts");
    await connectNetwork(ctx, String(argv.container), String(argv.network), {
      aliases: (argv.alias as string[] | undefined) ?? [],
      ...(typeof argv.ip === "string" ? { ip: argv.ip } : {}),
    });
  },
};

const disconnect: CommandSpec = {
  command: "disconnect <network> <container>",
  describe: "Disconnect a container from a network",
  builder: (y) =>
    y
      .positional("network", { type: "string" })
      .positional("container", { type: "string" })
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Force the container to disconnect from a network" }),
  async run(ctx, argv) {
    const { disconnectNetwork } = await import("../../network/connect.ts");
    await disconnectNetwork(ctx, String(argv.container), String(argv.network));
  },
};

export const networkSubcommands: CommandSpec[] = [create, ls, inspect, rm, prune, connect, disconnect];
