// Build speed: a context of 5 MB (five 1 MB files) and two RUN steps, FROM scratch with the host's
// static busybox (so podman gets it offline too). Cold: `tinydock build --no-cache` against
// `podman build --layers=false`; cached: both rebuilding the unchanged context. hyperfine, in the
// caller's network namespace (run it in one of your own), --network none for both. Goals: cold
// ≤ 0.3× podman, cached ≤ 0.1× podman.
//   bun bench/build.ts   (BENCH_BUILD_RUNS: timed runs per command, default 10)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 10);
const bin = path.resolve(import.meta.dir, "..", process.env.TINYDOCK_BIN ?? "tinydock");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-bench-build-"));
const ctx = path.join(dir, "ctx");
fs.mkdirSync(path.join(ctx, "data"), { recursive: true });
fs.copyFileSync("/bin/busybox", path.join(ctx, "busybox"));
fs.chmodSync(path.join(ctx, "busybox"), 0o755);
for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(ctx, "data", `f${i}`), crypto.getRandomValues(new Uint8Array(1 << 20)));
fs.writeFileSync(
  path.join(ctx, "Dockerfile"),
  [
    "FROM scratch",
    "COPY busybox /bin/busybox",
    "COPY data /data",
    'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir /out && /bin/busybox cp /data/f0 /out/copy"]',
    'RUN ["/bin/busybox", "rm", "/data/f1"]',
  ].join("\n"),
);
const pod = path.join(dir, "podman");
fs.mkdirSync(pod);
fs.writeFileSync(path.join(pod, "containers.conf"), '[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\n[engine]\nruntime = "runc"\n');
fs.writeFileSync(path.join(pod, "registries.conf"), "unqualified-search-registries = []\n");
const env = `TINYDOCK_ROOT=${dir}/root TINYDOCK_CONFIG=${dir}/none.json CONTAINERS_CONF=${pod}/containers.conf CONTAINERS_REGISTRIES_CONF=${pod}/registries.conf`;
const podman = `podman --root ${pod}/storage --runroot ${pod}/run`;
const td = `${bin} build -q --network none -t bench ${ctx}`;
const pb = `${podman} build -q --runtime runc --network none -t bench ${ctx}`;

function hyperfine(name: string, cmds: string[], prepare?: string): { command: string; mean: number }[] {
  const json = path.join(dir, `${name}.json`);
  const argv = ["hyperfine", "-N", "--runs", String(RUNS), "--warmup", "1", "--export-json", json, ...(prepare ? ["--prepare", prepare] : []), ...cmds.map((c) => `env ${env} ${c}`)];
  const r = Bun.spawnSync(argv, { stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`hyperfine ${name} failed`);
  return (JSON.parse(fs.readFileSync(json, "utf8")) as { results: { command: string; mean: number }[] }).results;
}

try {
  const cold = hyperfine("cold", [`${td} --no-cache`, `${pb} --layers=false`]);
  const cached = hyperfine("cached", [td, pb]);
  const f = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  console.log(`cold:   tinydock ${f(cold[0]!.mean)}  podman --layers=false ${f(cold[1]!.mean)}  ratio ${(cold[0]!.mean / cold[1]!.mean).toFixed(3)} (goal ≤ 0.3)`);
  console.log(`cached: tinydock ${f(cached[0]!.mean)}  podman (cached) ${f(cached[1]!.mean)}  ratio ${(cached[0]!.mean / cached[1]!.mean).toFixed(3)} (goal ≤ 0.1)`);
} finally {
  Bun.spawnSync(["sh", "-c", `env ${env} ${podman} system reset -f`], { stdout: "ignore", stderr: "ignore" });
  Bun.spawnSync(["sh", "-c", `for m in $(grep -o "${dir}[^ ]*" /proc/self/mounts | sort -r); do umount -l "$m"; done`]);
  fs.rmSync(dir, { recursive: true, force: true });
}
