// Start cost of the default bridge: `tinydock run --rm busybox true` on the bridge vs with
// --network none, side by side in one hyperfine run, inside a network namespace made for the
// bench (nsenter --net: the host's network is never touched). Goal: bridge ≤ 1.5× none.
//   BENCH_NET_RUNS (default 30). TINYDOCK_BIN: the binary (default ./tinydock).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildDefinition } from "../images/build.ts";
import { pushImage } from "../test/helpers/image.ts";
import { startRegistry } from "../test/helpers/registry.ts";
import { positiveEnv } from "./processes.ts";

const RUNS = positiveEnv("BENCH_NET_RUNS", 30);
const BIN = path.resolve(process.env.TINYDOCK_BIN ?? "./tinydock");
const ns = `tdt-bench-${crypto.randomBytes(3).toString("hex")}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-bench-net-"));
const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir, TINYDOCK_ROOT: path.join(dir, "root"), TINYDOCK_CONFIG: path.join(dir, "config.json") };
const reg = await startRegistry();
try {
  const { image } = await buildDefinition(path.resolve(import.meta.dir, "../images/busybox"));
  await pushImage(reg, "library/busybox", "latest", image);
  fs.writeFileSync(env.TINYDOCK_CONFIG, JSON.stringify({ "registry-mirrors": [reg.url], "mirror-fallback": false }));
  if (Bun.spawnSync([BIN, "pull", "-q", "busybox"], { env }).exitCode !== 0) throw new Error("pull failed");
  if (Bun.spawnSync(["ip", "netns", "add", ns]).exitCode !== 0) throw new Error(`ip netns add ${ns} failed`);
  const inNs = `nsenter --net=/run/netns/${ns} ${BIN}`;
  const json = path.join(dir, "hyperfine.json");
  const r = Bun.spawnSync(
    ["hyperfine", "-N", "--runs", String(RUNS), "--warmup", "3", "--export-json", json,
      "--command-name", "bridge", `${inNs} run --rm busybox true`,
      "--command-name", "none", `${inNs} run --rm --network none busybox true`],
    { env, stdout: "inherit", stderr: "inherit" },
  );
  if (r.exitCode !== 0) throw new Error("hyperfine failed");
  const res = JSON.parse(fs.readFileSync(json, "utf8")).results as { command: string; mean: number; median: number }[];
  const by = Object.fromEntries(res.map((x) => [x.command, x]));
  const ratio = by.bridge!.mean / by.none!.mean;
  console.log(`# run --rm busybox true: bridge ${(by.bridge!.mean * 1000).toFixed(1)} ms, none ${(by.none!.mean * 1000).toFixed(1)} ms: ${ratio.toFixed(2)}× (goal ≤ 1.5×)`);
} finally {
  Bun.spawnSync(["nsenter", `--net=/run/netns/${ns}`, BIN, "network", "prune", "-f"], { env });
  Bun.spawnSync(["ip", "netns", "del", ns]);
  await reg.stop();
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
    const mnt = line.split(" ")[4];
    if (mnt && mnt.startsWith(`${dir}/`)) Bun.spawnSync(["umount", "-l", mnt]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
