// Throughput of unpackLayer on a real-world layer, against GNU tar and umoci on the same bytes.
// Not a test (bun test skips *.bench.ts). Run as root:
//   bun test/integration/rootfs/unpack.bench.ts [workdir=/dev/shm] [runs=5]
// The layer is made from host directories (many small files: docs, python, perl, vim; a few big
// ones: cc1), ~270 MB of tar, ~110 MB gzip. The best of `runs` is reported, since other work on
// the machine only ever makes a run slower.
import fs from "node:fs";
import path from "node:path";
import type { Compression } from "../../../src/image/manifest.ts";
import { unpackLayer } from "../../../src/rootfs/unpack.ts";
import { linuxSys } from "../../../src/sys/linux.ts";

const SOURCES = ["usr/share/doc", "usr/lib/python3.11", "usr/share/vim", "usr/share/perl", "usr/share/i18n", "usr/lib/gcc/x86_64-linux-gnu/12/cc1"];

const workdir = fs.mkdtempSync(path.join(process.argv[2] ?? "/dev/shm", "tinydock-bench-"));
const runs = Number(process.argv[3] ?? 5);
const sh = (cmd: string) => {
  const r = Bun.spawnSync(["bash", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd}: ${r.stderr.toString()}`);
  return r.stdout.toString();
};

try {
  const sources = SOURCES.filter((s) => fs.existsSync(`/${s}`));
  const tar = path.join(workdir, "layer.tar");
  sh(`tar -C / -cf ${tar} ${sources.join(" ")}`);
  sh(`gzip -6 -k ${tar} && zstd -3 -q -k ${tar}`);
  const size = fs.statSync(tar).size;
  const entries = Number(sh(`tar -tf ${tar} | wc -l`).trim());
  console.log(`layer: ${entries} entries, ${(size / 1e6).toFixed(0)} MB tar, ${(fs.statSync(`${tar}.gz`).size / 1e6).toFixed(0)} MB gzip, ${(fs.statSync(`${tar}.zst`).size / 1e6).toFixed(0)} MB zstd, into ${workdir}`);

  const out = path.join(workdir, "out");
  const best = async (label: string, compressed: string, once: () => Promise<void> | void) => {
    let min = Infinity;
    for (let i = 0; i < runs; i++) {
      fs.rmSync(out, { recursive: true, force: true });
      fs.mkdirSync(out);
      const t0 = performance.now();
      await once();
      min = Math.min(min, performance.now() - t0);
    }
    const c = fs.statSync(compressed).size;
    console.log(
      `${label.padEnd(24)} ${min.toFixed(0).padStart(5)} ms  ${(size / 1e6 / (min / 1000)).toFixed(0).padStart(4)} MB/s uncompressed  ${(c / 1e6 / (min / 1000)).toFixed(0).padStart(4)} MB/s compressed`,
    );
  };
  const sys = linuxSys();
  for (const [c, file] of [["gzip", `${tar}.gz`], ["zstd", `${tar}.zst`], ["none", tar]] as [Compression, string][]) {
    await best(`tinydock ${c}`, file, async () => {
      await unpackLayer(Bun.file(file).stream(), c, out, { sys, maxBytes: 1e12, what: "layer bench" });
    });
  }
  await best("GNU tar gzip", `${tar}.gz`, () => void sh(`tar --xattrs --numeric-owner -xzpf ${tar}.gz -C ${out}`));
  if (Bun.which("umoci")) {
    const layout = path.join(workdir, "oci");
    sh(`umoci init --layout ${layout} && umoci new --image ${layout}:b && umoci raw add-layer --image ${layout}:b ${tar}`);
    const blob = sh(`ls -S ${layout}/blobs/sha256 | head -1`).trim();
    await best("umoci raw unpack gzip", path.join(layout, "blobs/sha256", blob), () => {
      fs.rmSync(out, { recursive: true, force: true });
      sh(`umoci raw unpack --image ${layout}:b ${out}`);
    });
  }
} finally {
  fs.rmSync(workdir, { recursive: true, force: true });
}
