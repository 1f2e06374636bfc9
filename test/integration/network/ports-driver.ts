// Port publishing's calls in a process of their own, for a test to run inside its netns:
//   nsenter --net=/run/netns/tdt-… bun ports-driver.ts ROOT publish|unpublish|reconcile 'JSON'
// The firewall is the netns's own (backend detected as on a host). Prints the result as JSON.
import { createContext } from "../../../src/context.ts";
import { parsePortSpecs } from "../../../src/network/portspec.ts";
import { linuxSys } from "../../../src/sys/linux.ts";

const [root, call, json] = process.argv.slice(2);
const ctx = createContext({ env: { TINYDOCK_ROOT: root, TINYDOCK_CONFIG: `${root}/no-config.json`, HOME: root }, sys: linuxSys() });
const arg = json ? JSON.parse(json) : {};
const ports = await import("../../../src/network/ports.ts");
try {
  let out: unknown;
  if (call === "publish") out = await ports.publishPorts(ctx, { ...arg, bindings: parsePortSpecs(arg.specs) });
  else if (call === "unpublish") out = await ports.unpublishPorts(ctx, arg.id);
  else if (call === "reconcile") out = await ports.reconcilePorts(ctx);
  else throw new Error(`unknown call ${call}`);
  process.stdout.write(`${JSON.stringify(out ?? null)}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
