import type { CommandSpec } from "../command.ts";

const DOCKER_HUB_KEY = "https://index.docker.io/v1/";

function serverName(arg: unknown): string {
  if (typeof arg !== "string" || !arg) return "docker.io";
  const host = arg.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

export const login: CommandSpec = {
  command: "login [server]",
  describe: "Log in to a registry (credentials go to Docker's config.json)",
  builder: (y) =>
    y
      .positional("server", { type: "string", describe: "Registry host[:port] (default Docker Hub)" })
      .option("username", { alias: "u", type: "string", describe: "Username" })
      .option("password", { alias: "p", type: "string", describe: "Password" })
      .option("password-stdin", { type: "boolean", default: false, describe: "Take the password from stdin" }),
  async run(ctx, argv, io) {
    const { checkLogin } = await import("../../registry/login.ts");
    const { writeCredentials } = await import("../../registry/credentials.ts");
    // Docker returns these from the command itself: exit 1, no pointer to the help.
    const { InvalidArgumentError } = await import("../../errors.ts");
    const registry = serverName(argv.server);
    let username = typeof argv.username === "string" ? argv.username : undefined;
    let password = typeof argv.password === "string" ? argv.password : undefined;
    if (argv["password-stdin"]) {
      if (password) throw new InvalidArgumentError("Cannot use --password and --password-stdin together");
      if (!username) throw new InvalidArgumentError("Must provide --username with --password-stdin");
      password = (await io.readStdin()).replace(/\r?\n$/, "");
    }
    if (password && !argv["password-stdin"]) io.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    if (!username || !password) {
      if (!process.stdin.isTTY) throw new InvalidArgumentError("Cannot perform an interactive login from a non TTY device");
      username ??= prompt("Username:") ?? "";
      password ??= prompt("Password:") ?? "";
    }
    await checkLogin(ctx, registry, username, password);
    writeCredentials(ctx.dockerConfigDir, registry === "docker.io" ? DOCKER_HUB_KEY : registry, username, password);
    io.out("Login Succeeded\n");
  },
};

export const logout: CommandSpec = {
  command: "logout [server]",
  describe: "Log out from a registry",
  builder: (y) => y.positional("server", { type: "string" }),
  async run(ctx, argv, io) {
    const { removeCredentials } = await import("../../registry/credentials.ts");
    const registry = serverName(argv.server);
    const removed = removeCredentials(ctx.dockerConfigDir, registry === "docker.io" ? DOCKER_HUB_KEY : registry);
    io.out(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
  },
};
