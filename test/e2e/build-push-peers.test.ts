// A tinydock-built image with deletions (a whiteout, an opaque directory), hard and symbolic links,
// pushed to Debian's docker-registry: skopeo + umoci unpack it to the rootfs tinydock mounts, and
// podman pulls and runs it seeing the same deletions.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { busyboxEnv, type BusyboxEnv } from "../helpers/busybox-env.ts";
import { tinydock } from "../helpers/cli.ts";
import { startRegistry, type TestRegistry } from "../helpers/registry.ts";
import { diffTrees, snapshotTree } from "../helpers/tree.ts";

let bb: BusyboxEnv;
let target: TestRegistry;
const T = (args: string[]) => tinydock(bb.env, args);

function run(cmd: string[], env: Record<string, string> = {}): string {
  const r = Bun.spawnSync(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

beforeAll(async () => {
  bb = await busyboxEnv("td-build-peers-");
  target = await startRegistry();
});

afterAll(async () => {
  await target?.stop();
  await bb?.close();
});

test("a built image with deletions, pushed: skopeo + umoci unpack the rootfs tinydock mounts, podman runs it with the deletions", () => {
  const ctx = path.join(bb.dir, "ctx");
  fs.mkdirSync(ctx);
  fs.writeFileSync(path.join(ctx, "f"), "from the context\n");
  fs.writeFileSync(
    path.join(ctx, "Dockerfile"),
    [
      "FROM busybox",
      // /home made again is an opaque directory; /bin/ls a whiteout.
      "RUN rm /bin/ls && rm -rf /home && mkdir -p /home/new && echo hi > /app-x && ln /app-x /app-hard && ln -s app-x /app-soft",
      "COPY --chmod=0640 f /home/new/f",
      "RUN rm /app-soft",
    ].join("\n"),
  );
  const name = `${target.host}/peers/built:v1`;
  const b = T(["build", "-q", "-t", name, ctx]);
  expect(b.stderr).toBe("");
  expect(b.code).toBe(0);
  const p = T(["push", name]);
  expect(p.stderr).toBe("");
  expect(p.code).toBe(0);

  const oci = path.join(bb.dir, "oci");
  run(["skopeo", "copy", "--src-tls-verify=false", `docker://${name}`, `oci:${oci}:v1`]);
  const bundle = path.join(bb.dir, "bundle");
  run(["umoci", "unpack", "--image", `${oci}:v1`, bundle]);
  const m = T(["image", "mount", name]);
  expect(m.code).toBe(0);
  try {
    const ours = snapshotTree(m.stdout.trim());
    expect(diffTrees(snapshotTree(path.join(bundle, "rootfs")), ours)).toEqual([]);
    const paths = new Set(ours.map((r) => r.path));
    expect([paths.has("bin/ls"), paths.has("home/user"), paths.has("app-soft"), paths.has("home/new/f")]).toEqual([false, false, false, true]);
    expect(ours.find((r) => r.path === "app-hard")?.nlink).toBe(2);
  } finally {
    T(["image", "unmount", name]);
  }

  const pod = path.join(bb.dir, "podman");
  fs.mkdirSync(pod);
  fs.writeFileSync(path.join(pod, "containers.conf"), '[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\nnetns = "none"\n[engine]\nruntime = "runc"\n');
  fs.writeFileSync(path.join(pod, "registries.conf"), `unqualified-search-registries = []\n[[registry]]\nlocation = "${target.host}"\ninsecure = true\n`);
  const penv = { CONTAINERS_CONF: path.join(pod, "containers.conf"), CONTAINERS_REGISTRIES_CONF: path.join(pod, "registries.conf") };
  const podman = ["podman", "--root", path.join(pod, "storage"), "--runroot", path.join(pod, "run")];
  try {
    const script = "ls /bin/ls /home/user /app-soft 2>&1 | wc -l; ls /home; cat /home/new/f; stat -c %a /home/new/f; stat -c %h /app-hard";
    expect(run([...podman, "run", "--rm", name, "sh", "-c", script], penv)).toBe("3\nnew\nfrom the context\n640\n2\n");
  } finally {
    Bun.spawnSync([...podman, "system", "reset", "-f"], { env: { ...process.env, ...penv }, stdout: "ignore", stderr: "ignore" });
  }
}, 300_000);
