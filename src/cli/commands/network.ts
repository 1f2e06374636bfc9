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

/** Docker's network table headers (cli/command/formatter/network.go). */
const NETWORK_HEADERS: Record<string, string> = {
  ID: "NETWORK ID",
  Name: "NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  IPv6: "IPV6",
  Internal: "INTERNAL",
  Labels: "LABELS",
  CreatedAt: "CREATED AT",
};

const NETWORK_FILTER_KEYS = ["dangling", "driver", "id", "label", "name", "scope", "type"];

const ls: CommandSpec = {
  command: ["ls", "list"],
  describe: "List networks",
  builder: (y) =>
    y
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "Only display network IDs" })
      .option("no-trunc", { type: "boolean", default: false, describe: "Do not truncate the output" })
      .option("filter", { alias: "f", type: "string", array: true, describe: "Provide filter values (name=, id=, driver=, label=, scope=, type=, dangling=)" })
      .option("noheading", { type: "boolean", default: false, describe: "Do not print the header row (podman)" })
      .option("format", { type: "string", describe: 'Format output: "table", "json", "table TEMPLATE" or a Go template' }),
  async run(ctx, argv, io) {
    const { listNetworks, PREDEFINED } = await import("../../network/networks.ts");
    const { boolFilter, matchAny, matchLabels, parseFilterArgs, validateFilterKeys } = await import("../filters.ts");
    const { goTime } = await import("../format.ts");
    const f = parseFilterArgs(((argv.filter as string[] | undefined) ?? []).map(String));
    validateFilterKeys(f, NETWORK_FILTER_KEYS);
    const { InvalidArgumentError } = await import("../../errors.ts");
    for (const t of f.get("type") ?? []) if (t !== "custom" && t !== "builtin") throw new InvalidArgumentError(`invalid filter: 'type'='${t}'`);
    const dangling = boolFilter(f, "dangling");
    const builtin = (name: string) => (PREDEFINED as readonly string[]).includes(name);
    let nets = listNetworks(ctx).filter(
      (n) =>
        (!f.has("name") || matchAny(f.get("name")!, n.name)) &&
        (!f.has("id") || matchAny(f.get("id")!, n.id)) &&
        (!f.has("driver") || f.get("driver")!.includes(n.driver)) &&
        (!f.has("scope") || f.get("scope")!.includes("local")) &&
        (!f.has("type") || f.get("type")!.includes(builtin(n.name) ? "builtin" : "custom")) &&
        matchLabels(f.get("label") ?? [], n.labels ?? {}),
    );
    if (dangling !== undefined) {
      const { networkMembers } = await import("../../network/addresses.ts");
      // Docker: a predefined network is never dangling; one without containers is.
      nets = nets.filter((n) => (!builtin(n.name) && (n.driver !== "bridge" || networkMembers(ctx, n).length === 0)) === dangling);
    }
    const id = (i: string) => (argv["no-trunc"] ? i : i.slice(0, 12));
    if (argv.quiet) return void io.out(nets.map((n) => `${id(n.id)}\n`).join(""));
    const rows = nets.map((n) => {
      const labels = n.labels ?? {};
      return {
        CreatedAt: goTime(n.created),
        Driver: n.driver,
        ID: id(n.id),
        IPv6: "false",
        Internal: "false",
        Labels: Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(","),
        Name: n.name,
        Scope: "local",
        Label: (k: unknown) => labels[String(k)] ?? "",
      };
    });
    const { renderListing } = await import("../listing.ts");
    const format = typeof argv.format === "string" ? argv.format : undefined;
    io.out(
      renderListing(
        {
          format: format === "{{json .}}" ? "json" : format,
          defaultTable: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
          headers: NETWORK_HEADERS,
          noHeading: Boolean(argv.noheading),
        },
        rows,
      ),
    );
  },
};

const inspect: CommandSpec = {
  command: "inspect <networks..>",
  describe: "Display detailed information on one or more networks",
  builder: (y) =>
    y
      .positional("networks", { type: "string", array: true })
      .option("format", { alias: "f", type: "string", describe: "Format the output using the given Go template" }),
  async run(ctx, argv, io) {
    const { findNetwork } = await import("../../network/networks.ts");
    const { networkMembers } = await import("../../network/addresses.ts");
    const { inspectNetwork } = await import("../../network/inspect.ts");
    const { eachRef } = await import("./each.ts");
    const out: unknown[] = [];
    const code = await eachRef(argv.networks as string[], io, (ref) => {
      const net = findNetwork(ctx, ref);
      out.push(inspectNetwork(net, net.driver === "bridge" ? networkMembers(ctx, net) : []));
    });
    const { printInspected } = await import("../listing.ts");
    return printInspected(io, typeof argv.format === "string" ? argv.format : undefined, out, code);
  },
};

const rm: CommandSpec = {
  command: ["rm <networks..>", "remove <networks..>"],
  describe: "Remove one or more networks",
  builder: (y) => y.positional("networks", { type: "string", array: true }).option("force", { alias: "f", type: "boolean", default: false }),
  async run(ctx, argv, io) {
    const { removeNetwork } = await import("../../network/remove.ts");
    const { isKind } = await import("../../errors.ts");
    const { eachRef } = await import("./each.ts");
    return eachRef(argv.networks as string[], io, async (ref) => {
      try {
        await removeNetwork(ctx, ref);
        io.out(`${ref}\n`);
      } catch (err) {
        if (!(argv.force && isKind(err, "NotFound"))) throw err;
      }
    });
  },
};

const prune: CommandSpec = {
  command: "prune",
  describe: "Remove all unused networks (and the default bridge's device and rules while unused)",
  builder: (y) =>
    y
      .option("force", { alias: "f", type: "boolean", default: false, describe: "Do not prompt for confirmation" })
      .option("filter", { type: "string", array: true, describe: 'Provide filter values (e.g. "until=<timestamp>", "label=k=v")' }),
  async run(ctx, argv, io) {
    const { keep } = (await import("../filters.ts")).pruneFilters(((argv.filter as string[] | undefined) ?? []).map(String), ctx.clock());
    const { listNetworks, PREDEFINED } = await import("../../network/networks.ts");
    const { networkMembers } = await import("../../network/addresses.ts");
    const { reconcileNetworks } = await import("../../network/reconcile.ts");
    const { removeNetwork } = await import("../../network/remove.ts");
    await reconcileNetworks(ctx);
    const deleted: string[] = [];
    for (const net of listNetworks(ctx)) {
      if (net.driver !== "bridge" || networkMembers(ctx, net).length) continue;
      const predefined = (PREDEFINED as readonly string[]).includes(net.name);
      if (!predefined && keep(net.created, () => net.labels)) continue;
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
      .option("ip", { type: "string", describe: "IPv4 address (e.g., 172.30.100.104)" })
      .option("link-local-ip", { type: "string", array: true, describe: "Add a link-local address for the container" }),
  async run(ctx, argv) {
    const [{ connectNetwork }, { parseLinkLocalIp }] = await Promise.all([import("../../network/connect.ts"), import("../../network/portspec.ts")]);
    const linkLocalIps = ((argv["link-local-ip"] as string[] | undefined) ?? []).map(String);
    for (const ip of linkLocalIps) parseLinkLocalIp(ip); // before anything is made
    await connectNetwork(ctx, String(argv.container), String(argv.network), {
      aliases: (argv.alias as string[] | undefined) ?? [],
      ...(typeof argv.ip === "string" ? { ip: argv.ip } : {}),
      ...(linkLocalIps.length ? { linkLocalIps } : {}),
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
