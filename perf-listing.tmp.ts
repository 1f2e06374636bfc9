import fs from "node:fs";
import path from "node:path";
import { buildDefinition } from "./images/build.ts";
import { tinydock, type CliEnv } from "./test/helpers/cli.ts";
import { pushImage } from "./test/helpers/image.ts";
import { startRegistry } from "./test/helpers/registry.ts";
const BIN = process.env.BIN!;
const reg = await startRegistry();
const { image } = await buildDefinition(path.resolve("images/busybox"));
await pushImage(reg, "library/busybox", "latest", image);
const dir = "/tmp/td-filters-perf/keep";
const env: CliEnv = { root: path.join(dir, "root"), config: path.join(dir, "config.json"), dockerConfig: path.join(dir, "docker") };
fs.writeFileSync(env.config, JSON.stringify({ "registry-mirrors": [reg.url], "mirror-fallback": false }));
tinydock(env, ["pull", "-q", "busybox"]);
for (let i = 0; i < 100; i++) {
  const r = tinydock(env, ["create", "--network", "none", "-l", `n=${i}`, "busybox", "sleep", "1"]);
  if (r.code) throw new Error(r.stderr);
}
for (let i = 0; i < 5; i++) tinydock(env, ["tag", "busybox", `t${i}:x`]);
console.log(env.root);
await reg.stop();
