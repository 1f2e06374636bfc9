// `make demo`: a private registry on loopback, images/busybox built and pushed to it as
// library/busybox:latest, then `./tinydock pull busybox`, `./tinydock images` and
// `./tinydock run --rm busybox echo hello from tinydock` through it as a registry mirror, each
// command printed before it runs. TINYDOCK_ROOT overrides the demo's root.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startRegistry } from "../test/helpers/registry.ts";
import { buildAndPush } from "./build.ts";

const repoRoot = path.resolve(import.meta.dir, "..");
const binary = path.join(repoRoot, "tinydock");

async function main(): Promise<number> {
  if (!fs.existsSync(binary)) {
    console.error(`Cannot run the demo: ${binary} does not exist (run make first)`);
    return 1;
  }
  const registry = await startRegistry();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-demo-"));
  const stop = async (): Promise<void> => {
    await registry.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    void stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    console.log(`# registry at ${registry.url}`);
    const target = `${registry.url}/library/busybox:latest`;
    console.log(`$ bun images/build.ts images/busybox --push ${target}`);
    const image = await buildAndPush(path.join(repoRoot, "images/busybox"), target, { log: () => {} });
    console.log(`pushed ${target} ${image.manifestDigest}`);

    const configPath = path.join(tmp, "config.json");
    fs.writeFileSync(
      configPath,
      `${JSON.stringify({ "registry-mirrors": [registry.url], "mirror-fallback": false, "insecure-registries": [registry.host] }, null, 2)}\n`,
    );
    const root = process.env.TINYDOCK_ROOT || "/var/lib/tinydock";
    const env = { ...process.env, TINYDOCK_CONFIG: configPath, TINYDOCK_ROOT: root };
    let status = 0;
    for (const args of [["pull", "busybox"], ["images"], ["run", "--rm", "busybox", "echo", "hello from tinydock"]]) {
      console.log(`$ TINYDOCK_CONFIG=${configPath} TINYDOCK_ROOT=${root} ./tinydock ${args.join(" ")}`);
      const proc = Bun.spawn([binary, ...args], { env, cwd: repoRoot, stdin: "ignore", stdout: "inherit", stderr: "inherit" });
      const code = await proc.exited;
      if (code !== 0) {
        console.log(`# ./tinydock ${args.join(" ")} exited ${code}`);
        status = code;
      }
    }
    return status;
  } finally {
    await stop();
  }
}

process.exit(await main());
