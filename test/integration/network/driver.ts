// Runs one network call of the engine in its own process, so a test can run it inside the network
// namespace it made: `nsenter --net=/run/netns/tdt-… bun driver.ts ROOT CALL 'JSON'`. (Not
// `ip netns exec`: that also makes a throwaway mount namespace, and the netns files the engine
// bind-mounts would vanish with it.) Prints the result as JSON on stdout.
import { createContext } from "../../../src/context.ts";
import { linuxSys } from "../../../src/sys/linux.ts";

const [root, call, json] = process.argv.slice(2);
const ctx = createContext({ env: { TINYDOCK_ROOT: root, TINYDOCK_CONFIG: `${root}/no-config.json`, HOME: root }, sys: linuxSys() });
const arg = json ? JSON.parse(json) : {};
const net = await import("../../../src/network/attach.ts");
const networks = await import("../../../src/network/networks.ts");
try {
  let out: unknown;
  if (call === "attach") out = await net.attachNetwork(ctx, arg);
  else if (call === "detach") out = await net.detachNetwork(ctx, arg.id, arg.record);
  else if (call === "reconcile") out = await (await import("../../../src/network/reconcile.ts")).reconcileNetworks(ctx);
  else if (call === "create") out = await networks.createNetwork(ctx, arg);
  else if (call === "rm") out = await (await import("../../../src/network/remove.ts")).removeNetwork(ctx, arg.name, arg);
  else if (call === "connect") out = await (await import("../../../src/network/connect.ts")).connectNetwork(ctx, arg.container, arg.network, arg);
  else if (call === "disconnect") out = await (await import("../../../src/network/connect.ts")).disconnectNetwork(ctx, arg.container, arg.network);
  else if (call === "masquerade") out = (await import("../../../src/network/masquerade.ts")).applyMasquerade(arg.nets, arg.backend);
  else throw new Error(`unknown call ${call}`);
  // writeSync: a pipe's async write could still be pending when the process ends
  (await import("node:fs")).writeSync(1, `${JSON.stringify(out ?? null)}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
