// `tinydock port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published ports, in Docker's format.
import type { CommandSpec } from "../command.ts";

export const port: CommandSpec = {
  command: "port <container> [privatePort]",
  describe: "List port mappings or a specific mapping for the container",
  builder: (y) =>
    y
      .positional("container", { type: "string", describe: "CONTAINER (name, id or id prefix)" })
      .positional("privatePort", { type: "string", describe: "PRIVATE_PORT[/PROTO]" }),
  async run(ctx, argv, io) {
    const { NotFoundError } = await import("../../errors.ts");
    const { findContainer } = await import("../../store/containers.ts");
    const { formatHostAddress, formatPortLine, parsePortFilter } = await import("../../network/portspec.ts");
    const { readPorts } = await import("../../network/ports.ts");
    const found = findContainer(ctx.root, String(argv.container));
    const ports = readPorts(ctx.root, found.id);
    if (argv.privatePort === undefined) {
      for (const b of ports) io.out(`${formatPortLine(b)}\n`);
      return 0;
    }
    const want = parsePortFilter(String(argv.privatePort));
    const matching = ports.filter((b) => b.containerPort === want.containerPort && b.protocol === want.protocol);
    if (matching.length === 0) {
      throw new NotFoundError(`No public port '${want.containerPort}/${want.protocol}' published for ${found.name}`);
    }
    for (const b of matching) io.out(`${formatHostAddress(b)}\n`);
    return 0;
  },
};
