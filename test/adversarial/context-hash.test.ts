// The build cache hashes COPY's sources before copying them (src/build/buildcontext.ts). A context
// changed meanwhile by another process can hold, when the hash reads it, a link where the source
// path was checked to have a directory: the hash must not read through it (no host file's content
// hashed, nor its digest kept in the store's digest cache), whatever the build then does.
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { DigestCache, hashSources } from "../../src/build/buildcontext.ts";
import { BENEATH } from "../../src/rootfs/beneath.ts";
import { linuxSys } from "../../src/sys/linux.ts";
import { recordCases } from "../helpers/adversarial.ts";
import { tempDirEach } from "../helpers/tmp.ts";

const sys = linuxSys();
const SECRET = "HOST-SECRET-CONTENT";
let root = "";
let host = "";
tempDirEach("td-ctx-hash-", ["ctx", "host"], (_d, c, h) => {
  [root, host] = [c!, h!];
  fs.mkdirSync(path.join(host, "d"));
  fs.writeFileSync(path.join(host, "d", "f"), SECRET);
  fs.writeFileSync(path.join(host, "f"), SECRET);
});

test("a source path holding a link to a host directory when hashed is refused, never read through", () => {
  const secretDigest = new Bun.CryptoHasher("sha256").update(SECRET).digest("hex");
  // [the context's link, the source hashed]
  const cases: [string, string, string][] = [
    ["d", path.join(host, "d"), "d/f"],
    ["d", path.join(host, "d"), "d"],
    ["e", "../../../../../../../../..", `e${host}/f`],
  ];
  for (const [name, target, src] of cases) {
    fs.rmSync(path.join(root, name), { force: true });
    fs.symlinkSync(target, path.join(root, name));
    const file = path.join(root, "..", `digests-${name}.json`);
    const cache = new DigestCache(file);
    let digests = "";
    try {
      hashSources(sys, { root, ignore: [] }, [src], cache, BENEATH);
    } catch {}
    cache.save();
    if (fs.existsSync(file)) digests = fs.readFileSync(file, "utf8");
    expect(`${src}: ${digests.includes(secretDigest)}`).toBe(`${src}: false`);
  }
  recordCases("build: context hashed through a link swapped in", cases.length);
});
