// `make bench`, first part (run.ts is the second): pulls a ~300 MB, 8-layer image from a local
// registry with ./tinydock, podman, and skopeo + umoci, side by side in one hyperfine run; then a
// warm tinydock pull against `tinydock --version`; prints the means and the ratios the goals are
// stated in.
//   BENCH_COLD_RUNS (default 3), BENCH_WARM_RUNS (default 20): timed runs per command.
//   TINYDOCK_BIN: the binary to measure (default ./tinydock), e.g. a build under test.
import fs from "node:fs";
import path from "node:path";
import { startRegistry, type TestRegistry } from "../test/helpers/registry.ts";
import { pushImage } from "../test/helpers/image.ts";
import { hyperfine, type Bench, type Timing } from "./hyperfine.ts";
import { benchImage, CACHE_ROOT, type BenchImage } from "./image.ts";
import { setUpPeers, toolsEnv } from "./peers.ts";
import { Children, log, ms, positiveEnv, q, removeTree, runBinaryBench, type BinaryBench } from "./processes.ts";
import { Trash } from "./trash.ts";

const REPO = "bench/big";
const TAG = "v1";
const COLD_RUNS = positiveEnv("BENCH_COLD_RUNS", 3);
const WARM_RUNS = positiveEnv("BENCH_WARM_RUNS", 20);
const PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const TOOLS = ["hyperfine", "podman", "skopeo", "umoci", "docker-registry"];
/** Only used when /dev/shm has this much room: the tmpfs pull holds the blobs and the unpacked tree. */
const SHM_NEEDED = 2 * 1024 ** 3;

const NAMES = {
  tinydock: "tinydock pull (cold)",
  tinydockShm: "tinydock pull (cold, root on tmpfs)",
  podman: "podman pull (cold)",
  skopeoUmoci: "skopeo copy + umoci unpack (cold)",
  warm: "tinydock pull (warm)",
  version: "tinydock --version",
};

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

async function main({ children, onCleanup, binary, workdir }: BinaryBench): Promise<number> {
  const shmdir = shmRoom() ? fs.mkdtempSync("/dev/shm/tinydock-bench-") : undefined;
  let registry: TestRegistry | undefined;
  let podman: { argv: string[]; env: Record<string, string> } | undefined;
  onCleanup(async (children) => {
    // Drops podman's layers (and any overlay mount it holds) before the tree goes.
    if (podman && fs.existsSync(workdir)) await children.run([...podman.argv, "rmi", "-af"], { PATH: PATH_ENV, ...podman.env });
    await removeTree(children, workdir);
    if (shmdir) await removeTree(children, shmdir);
    await registry?.stop();
  });

  const image = await benchImage(log);
  log(
    `image: ${image.image.layers.length} gzip layers, ${mb(image.unpackedBytes)} unpacked, ` +
      `${mb(image.image.layers.reduce((n, l) => n + l.size, 0))} compressed, ${image.entries} tar entries (cache ${image.cacheDir})`,
  );
  registry = await startRegistry();
  const reference = `${registry.host}/${REPO}:${TAG}`;
  let t = performance.now();
  await pushImage(registry, REPO, TAG, image.image);
  log(`pushed ${reference} in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const trash = new Trash(diskRoom(image) ? path.join(workdir, "trash") : undefined);
  if (!trash.dir) log(`too little room in ${CACHE_ROOT} to keep old runs aside: deleting them instead, which slows the next pull`);
  const peers = setUpPeers(workdir, registry.host, reference, trash);
  podman = { argv: peers.podmanArgv, env: peers.env };
  const tinydockRoot = path.join(workdir, "tinydock");
  const env = toolsEnv(workdir, PATH_ENV, peers, tinydockRoot, undefined, {
    ...(process.env.TERM ? { TERM: process.env.TERM } : {}),
    ...(process.env.NO_COLOR ? { NO_COLOR: process.env.NO_COLOR } : {}),
  });

  const tinydockPull = `${q(binary)} pull -q ${q(reference)}`;
  const cold: Record<keyof typeof NAMES, Bench | undefined> = {
    tinydock: { name: NAMES.tinydock, command: tinydockPull, prepare: `${trash.command([tinydockRoot])} && sync` },
    tinydockShm: shmdir
      ? {
          name: NAMES.tinydockShm,
          command: `TINYDOCK_ROOT=${q(path.join(shmdir, "root"))} ${tinydockPull}`,
          // tmpfs has no such inode scan, and the memory is better freed.
          prepare: `rm -rf ${q(path.join(shmdir, "root"))}`,
        }
      : undefined,
    podman: { name: NAMES.podman, ...peers.podman },
    skopeoUmoci: { name: NAMES.skopeoUmoci, ...peers.skopeoUmoci },
    warm: undefined,
    version: undefined,
  };

  // One pull each first: it proves the command works (a failing tool is reported, not timed) and
  // serves as hyperfine's warm-up, leaving the registry's blobs in the page cache for everyone.
  const failed = new Map<string, string>();
  const onDisk = new Map<string, number>();
  const storage: Record<string, string> = {
    [NAMES.tinydock]: tinydockRoot,
    [NAMES.podman]: peers.podman.storage,
    [NAMES.skopeoUmoci]: peers.skopeoUmoci.storage,
  };
  for (const b of Object.values(cold)) {
    if (!b) continue;
    t = performance.now();
    const prep = await children.run(["sh", "-c", b.prepare!], env);
    const r = prep.code === 0 ? await children.run(["sh", "-c", b.command], env) : prep;
    if (r.code !== 0) {
      failed.set(b.name, `exit ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" | ")}`);
      log(`${b.name}: FAILED (${failed.get(b.name)})`);
      continue;
    }
    const where = storage[b.name];
    if (where) onDisk.set(b.name, await diskUsage(children, where));
    log(`${b.name}: one pull in ${ms(performance.now() - t)} ms${where ? `, ${mb(onDisk.get(b.name)!)} on disk` : ""}`);
  }

  const timings = new Map<string, Timing>();
  const coldBenches = Object.values(cold).filter((b): b is Bench => b !== undefined && !failed.has(b.name));
  if (coldBenches.length > 0) {
    log(`cold pulls: ${COLD_RUNS} runs each, each tool's storage moved aside before every run`);
    for (const [k, v] of await hyperfine(children, coldBenches, { runs: COLD_RUNS, warmup: 0, env, workdir })) timings.set(k, v);
  }
  const tinydockWorks = !failed.has(NAMES.tinydock);
  if (tinydockWorks) {
    log(`warm pull: ${WARM_RUNS} runs each, the image already in ${tinydockRoot}`);
    const warm: Bench[] = [
      // hyperfine -N splits these as a shell would, quotes included, but runs no shell.
      { name: NAMES.warm, command: tinydockPull },
      { name: NAMES.version, command: `${q(binary)} --version` },
    ];
    for (const [k, v] of await hyperfine(children, warm, { runs: WARM_RUNS, warmup: 3, noShell: true, env, workdir })) {
      timings.set(k, v);
    }
  }
  const floors = await measureFloors(children, image, registry, workdir, trash);

  printSummary(timings, failed, onDisk, floors);
  return tinydockWorks ? 0 : 1;
}

/** Room on disk for every cold run's leftovers, kept until the end (see trash.ts), and a margin. */
function diskRoom(image: BenchImage): boolean {
  const compressed = image.image.layers.reduce((n, l) => n + l.size, 0);
  // tinydock keeps blobs and the tree, podman the tree, skopeo + umoci the layout and the bundle.
  const perRound = 3 * image.unpackedBytes + 2 * compressed;
  try {
    const s = fs.statfsSync(CACHE_ROOT);
    return s.bavail * s.bsize >= (COLD_RUNS + 2) * perRound + 1024 ** 3;
  } catch {
    return false;
  }
}

function shmRoom(): boolean {
  try {
    const s = fs.statfsSync("/dev/shm");
    return s.bavail * s.bsize >= SHM_NEEDED;
  } catch {
    return false;
  }
}

async function diskUsage(children: Children, dir: string): Promise<number> {
  const r = await children.run(["du", "-sb", dir], { PATH: PATH_ENV });
  return Number(r.stdout.split("\t")[0]) || 0;
}

interface Floors {
  fetchMs: number;
  gunzipMs: number;
  sha256Ms: number;
  gnuTarMs?: number;
}

/**
 * What no pull can go below, each part alone in this process: fetching every blob from the
 * registry at once, gunzip of every layer in turn, and sha256 over blobs and tars (the digest and
 * diff_id checks). Then, for scale, GNU tar unpacking every layer in turn into a directory on disk.
 */
async function measureFloors(children: Children, image: BenchImage, registry: TestRegistry, workdir: string, trash: Trash): Promise<Floors> {
  let t = performance.now();
  await Promise.all(
    image.image.layers.map(async (l) => {
      const res = await fetch(`${registry.url}/v2/${REPO}/blobs/${l.digest}`);
      if (!res.ok || !res.body) throw new Error(`Cannot fetch ${l.digest} from ${registry.url}: HTTP ${res.status}`);
      for await (const _chunk of res.body) {
        // drained only: the time is the point
      }
    }),
  );
  const fetchMs = performance.now() - t;

  const tars: Uint8Array[] = [];
  let gunzipMs = 0;
  for (const file of image.layerFiles) {
    const blob = Bun.file(file);
    await blob.bytes(); // page cache warm, so the disk read is not counted as gunzip
    t = performance.now();
    const chunks: Uint8Array[] = [];
    for await (const chunk of blob.stream().pipeThrough(new DecompressionStream("gzip"))) chunks.push(chunk as Uint8Array);
    gunzipMs += performance.now() - t;
    tars.push(Buffer.concat(chunks));
  }

  t = performance.now();
  for (const l of image.image.layers) new Bun.CryptoHasher("sha256").update(l.blob).digest();
  for (const tar of tars) new Bun.CryptoHasher("sha256").update(tar).digest();
  const sha256Ms = performance.now() - t;

  const dir = path.join(workdir, "gnu-tar");
  const script = image.layerFiles.map((f) => `tar -xzf ${q(f)} -C ${q(dir)}`).join(" && ");
  await children.run(["sh", "-c", `mkdir -p ${q(dir)} && sync`], { PATH: PATH_ENV });
  t = performance.now();
  const r = await children.run(["sh", "-c", script], { PATH: PATH_ENV });
  const gnuTarMs = r.code === 0 ? performance.now() - t : undefined;
  await children.run(["sh", "-c", trash.command([dir])], { PATH: PATH_ENV });
  return { fetchMs, gunzipMs, sha256Ms, gnuTarMs };
}

function printSummary(timings: Map<string, Timing>, failed: Map<string, string>, onDisk: Map<string, number>, floors: Floors): void {
  const rows = Object.values(NAMES);
  const width = Math.max(...rows.map((r) => r.length));
  console.log("");
  console.log(`${"".padEnd(width)}  ${"mean ms".padStart(8)}  ${"± ms".padStart(7)}  ${"min".padStart(7)}  ${"max".padStart(7)}  runs  on disk`);
  for (const name of rows) {
    const t = timings.get(name);
    const disk = onDisk.has(name) ? mb(onDisk.get(name)!) : "";
    if (t) {
      console.log(
        `${name.padEnd(width)}  ${ms(t.meanMs).padStart(8)}  ${ms(t.stddevMs).padStart(7)}  ${ms(t.minMs).padStart(7)}  ${ms(t.maxMs).padStart(7)}  ${String(t.runs).padStart(4)}  ${disk}`,
      );
    } else if (failed.has(name)) {
      console.log(`${name.padEnd(width)}  FAILED ${failed.get(name)}`);
    }
  }
  console.log("");
  const mean = (name: string): number | undefined => timings.get(name)?.meanMs;
  const goal = (what: string, a: [string, number | undefined], b: [string, number | undefined], max: number, strict: boolean): void => {
    const goalText = `goal ${strict ? "<" : "≤"} ${max}×`;
    if (a[1] === undefined || b[1] === undefined) {
      console.log(`${what}: ${a[0]} ${a[1] === undefined ? "n/a" : `${ms(a[1])} ms`}, ${b[0]} ${b[1] === undefined ? "n/a" : `${ms(b[1])} ms`} (${goalText}) NOT MEASURED`);
      return;
    }
    const ratio = a[1] / b[1];
    const pass = strict ? ratio < max : ratio <= max;
    console.log(`${what}: ${a[0]} ${ms(a[1])} ms, ${b[0]} ${ms(b[1])} ms → ${ratio.toFixed(2)}× (${goalText}) ${pass ? "PASS" : "MISS"}`);
  };
  goal("cold pull", ["tinydock", mean(NAMES.tinydock)], ["podman", mean(NAMES.podman)], 0.5, false);
  goal("cold pull", ["tinydock", mean(NAMES.tinydock)], ["skopeo+umoci", mean(NAMES.skopeoUmoci)], 1, true);
  goal("warm pull", ["tinydock pull", mean(NAMES.warm)], ["tinydock --version", mean(NAMES.version)], 5, false);

  const parts = [
    `fetch all blobs ${ms(floors.fetchMs)} ms`,
    `gunzip all layers ${ms(floors.gunzipMs)} ms (one thread)`,
    `sha256 of blobs and tars ${ms(floors.sha256Ms)} ms`,
  ];
  const disk = mean(NAMES.tinydock);
  const shm = mean(NAMES.tinydockShm);
  if (disk !== undefined && shm !== undefined) parts.push(`tinydock with its root on tmpfs ${ms(shm)} ms, so the disk costs ${ms(disk - shm)} ms`);
  if (floors.gnuTarMs !== undefined) parts.push(`for scale, GNU tar -xzf of every layer in turn to disk ${ms(floors.gnuTarMs)} ms`);
  console.log(`where tinydock's cold pull goes (each part alone): ${parts.join("; ")}`);
}

await runBinaryBench(TOOLS, PATH_ENV, "run-", main);
