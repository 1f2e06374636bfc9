import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DataLossError, NotFoundError, ParseError } from "../../../src/errors.ts";
import { sha256Digest } from "../../../src/image/digest.ts";
import { MOUNT_DATA_MAX, overlayMount } from "../../../src/rootfs/mount.ts";
import { hasBlob, Ingest, putBlob } from "../../../src/store/content.ts";
import { addTag, readTags, resolveImage, saveImage, type ImageRecord } from "../../../src/store/images.ts";
import { openStore } from "../../../src/store/init.ts";
import { storeLayout } from "../../../src/store/layout.ts";
import { MS } from "../../../src/sys/sys.ts";

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tinydock-store-"));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe("layout", () => {
  test("refuses digests that are not sha256:<64 hex> before they become paths", () => {
    const l = storeLayout("/r");
    expect(l.blob(`sha256:${"a".repeat(64)}`)).toBe(`/r/blobs/sha256/${"a".repeat(64)}`);
    for (const bad of ["sha256:../../etc", `sha256:${"A".repeat(64)}`, "../x", `sha512:${"a".repeat(64)}`]) {
      expect(() => l.blob(bad)).toThrow(ParseError);
      expect(() => l.layer(bad)).toThrow(ParseError);
    }
  });
  test("the store root is private", () => {
    openStore(path.join(root, "s"));
    expect(fs.statSync(path.join(root, "s")).mode & 0o777).toBe(0o700);
  });
});

describe("content", () => {
  test("putBlob verifies the digest", () => {
    const l = openStore(root);
    const data = new TextEncoder().encode("hello");
    expect(() => putBlob(l, sha256Digest("other"), data)).toThrow(DataLossError);
    expect(hasBlob(l, sha256Digest("other"))).toBe(false);
    putBlob(l, sha256Digest(data), data);
    expect(fs.readFileSync(l.blob(sha256Digest(data)), "utf8")).toBe("hello");
  });

  test("an ingest resumes across instances and commits only when complete and correct", async () => {
    const l = openStore(root);
    const data = crypto.getRandomValues(new Uint8Array(300_000));
    const digest = sha256Digest(data);
    const first = new Ingest(l, digest, data.length);
    first.write(data.subarray(0, 100_000));
    await first.close(); // as if killed
    const second = new Ingest(l, digest, data.length);
    expect(second.resumable).toBe(100_000);
    let replayed = 0;
    for await (const c of second.replay()) replayed += c.length;
    expect(replayed).toBe(100_000);
    second.write(data.subarray(100_000));
    await second.commit(l);
    expect(hasBlob(l, digest)).toBe(true);
    expect(fs.existsSync(l.ingest(digest))).toBe(false);
  });

  test("a wrong digest or size is refused and the partial discarded", async () => {
    const l = openStore(root);
    const data = new TextEncoder().encode("abc");
    const ing = new Ingest(l, sha256Digest("xyz"), 3);
    ing.write(data);
    await expect(ing.commit(l)).rejects.toThrow(/content hashes to/);
    expect(fs.existsSync(l.ingest(sha256Digest("xyz")))).toBe(false);
    const short = new Ingest(l, sha256Digest(data), 4);
    short.write(data);
    await expect(short.commit(l)).rejects.toThrow(/got 3 bytes, manifest says 4/);
    const long = new Ingest(l, sha256Digest(data), 2);
    expect(() => long.write(data)).toThrow(/more than the 2 bytes/);
    await expect(long.append(data)).rejects.toThrow(/more than the 2 bytes/);
    await long.discard();
  });

  test("append writes behind, in order: close leaves a prefix to resume from, commit the whole blob", async () => {
    const l = openStore(root);
    // More than the write-behind bound (8 MiB), in network-sized chunks.
    const data = new Uint8Array(24 << 20);
    for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    const digest = sha256Digest(data);
    const chunk = 300 * 1024;
    const cut = 60 * chunk;
    const first = new Ingest(l, digest, data.length);
    for (let off = 0; off < cut; off += chunk) await first.append(data.slice(off, off + chunk));
    await first.close();
    expect(fs.statSync(l.ingest(digest)).size).toBe(cut);
    expect(Buffer.from(fs.readFileSync(l.ingest(digest))).equals(Buffer.from(data.subarray(0, cut)))).toBe(true);
    const second = new Ingest(l, digest, data.length);
    for await (const _ of second.replay()) {
      // hashed as it passes
    }
    for (let off = cut; off < data.length; off += chunk) await second.append(data.slice(off, off + chunk));
    await second.commit(l);
    expect(Buffer.from(fs.readFileSync(l.blob(digest))).equals(Buffer.from(data))).toBe(true);
    expect(fs.existsSync(l.ingest(digest))).toBe(false);
  });
});

describe("images and tags", () => {
  const rec = (c: string): ImageRecord => ({
    id: `sha256:${c.repeat(64)}`,
    manifestDigest: `sha256:${"e".repeat(64)}`,
    manifestMediaType: "x",
    layers: [],
    platform: { os: "linux", architecture: "amd64" },
    pulledAt: new Date(0).toISOString(),
    repoDigests: [`docker.io/library/busybox@sha256:${"e".repeat(64)}`],
  });
  test("resolve by tag, short name, id, id prefix and repo digest", () => {
    const l = openStore(root);
    saveImage(l, rec("a"));
    saveImage(l, { ...rec("b"), manifestDigest: `sha256:${"f".repeat(64)}`, repoDigests: [`docker.io/library/busybox@sha256:${"f".repeat(64)}`] });
    addTag(l, "busybox", rec("a").id);
    expect(readTags(l)).toEqual({ "docker.io/library/busybox:latest": rec("a").id });
    expect(resolveImage(l, "busybox").record.id).toBe(rec("a").id);
    expect(resolveImage(l, "docker.io/library/busybox:latest").tag).toBe("docker.io/library/busybox:latest");
    expect(resolveImage(l, "aaaa").record.id).toBe(rec("a").id);
    expect(resolveImage(l, rec("b").id).record.id).toBe(rec("b").id);
    expect(resolveImage(l, `busybox@sha256:${"e".repeat(64)}`).record.id).toBe(rec("a").id);
    expect(resolveImage(l, `docker.io/library/busybox@sha256:${"f".repeat(64)}`).record.id).toBe(rec("b").id);
    expect(() => resolveImage(l, `busybox@sha256:${"d".repeat(64)}`)).toThrow(NotFoundError);
    expect(() => resolveImage(l, "busybox:nope")).toThrow(NotFoundError);
    expect(() => resolveImage(l, "busybox:nope")).toThrow("No such image: busybox:nope");
    expect(() => resolveImage(l, "cccc")).toThrow(NotFoundError);
  });
});

describe("overlay mount plan", () => {
  test("128 layers fit in one page through short links", () => {
    const links = Array.from({ length: 128 }, (_, i) => `ABCDEFGHIJ${String(i).padStart(2, "0")}`);
    const m = overlayMount({ lowers: links, target: "/t", root: "/var/lib/tinydock", emptyLower: "empty" });
    expect(m.data!.length).toBeLessThanOrEqual(MOUNT_DATA_MAX);
    expect(m.data).toStartWith("lowerdir=l/ABCDEFGHIJ00:l/ABCDEFGHIJ01");
    expect(m.flags & MS.RDONLY).toBe(MS.RDONLY);
    expect(m.cwd).toBe("/var/lib/tinydock");
  });
  test("one layer gets an empty bottom lower; an upper makes it writable", () => {
    expect(overlayMount({ lowers: ["A"], target: "/t", root: "/r", emptyLower: "empty" }).data).toBe("lowerdir=l/A:empty");
    const rw = overlayMount({ lowers: ["A"], upper: "/u", work: "/w", target: "/t", root: "/r", emptyLower: "empty" });
    expect(rw.data).toBe("lowerdir=l/A,upperdir=/u,workdir=/w");
    expect(rw.flags & MS.RDONLY).toBe(0);
  });
  test("a layer the image repeats is mounted once, at its topmost place (overlay says ELOOP to a lower twice)", () => {
    expect(overlayMount({ lowers: ["A", "B", "A", "C", "A"], target: "/t", root: "/r", emptyLower: "empty" }).data).toBe("lowerdir=l/A:l/B:l/C");
    expect(overlayMount({ lowers: ["A", "A"], target: "/t", root: "/r", emptyLower: "empty" }).data).toBe("lowerdir=l/A:empty");
  });
  test("too many layers is a clear error, not EINVAL from the kernel", () => {
    const links = Array.from({ length: 400 }, (_, i) => `ABCDEFGHI${String(i).padStart(3, "0")}`);
    expect(() => overlayMount({ lowers: links, target: "/t", root: "/r", emptyLower: "e" })).toThrow(/400 layers exceed/);
  });
});
