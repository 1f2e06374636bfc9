// Volume records, filters, in-use and prune rules (store/volumes.ts) on temp roots.
import { afterEach, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createVolume, getVolume, listVolumes, matchVolume, parseVolumeFilters, pruneVolumes, readVolume, removeVolume, volumeUsers, type Volume } from "../../../src/store/volumes.ts";
import { saveContainer, type ContainerRecord } from "../../../src/store/containers.ts";

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});
function root(): string {
  const r = fs.mkdtempSync(path.join(os.tmpdir(), "td-vol-"));
  roots.push(r);
  return r;
}

function container(r: string, id: string, mounts: Record<string, unknown>[]): void {
  fs.mkdirSync(path.join(r, "containers", id), { recursive: true });
  const rec = { id, name: `c${id.slice(0, 4)}`, image: "busybox", imageId: "sha256:x", created: "", args: [], hostname: "", state: { status: "exited", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" }, mounts } as ContainerRecord;
  saveContainer(r, rec, false);
}

const ID1 = "a".repeat(64);
const ID2 = "b".repeat(64);

test("create: record with time, labels and anonymity; a random 64-hex name when none; existing returned untouched", () => {
  const r = root();
  const a = createVolume(r, "data", { labels: { k: "v" }, now: Date.parse("2026-01-02T03:04:05.678Z") });
  expect(a.created).toBe(true);
  expect(a.volume).toMatchObject({ Name: "data", CreatedAt: "2026-01-02T03:04:05Z", Labels: { k: "v" }, Options: {}, Anonymous: false, Mountpoint: path.join(r, "volumes", "data", "_data") });
  expect(fs.statSync(a.volume.Mountpoint).isDirectory()).toBe(true);
  const again = createVolume(r, "data", { labels: { other: "x" } });
  expect(again.created).toBe(false);
  expect(again.volume.Labels).toEqual({ k: "v" });
  const anon = createVolume(r, undefined).volume;
  expect(anon.Name).toMatch(/^[a-f0-9]{64}$/);
  expect(anon.Anonymous).toBe(true);
  // nothing half-made is left beside them
  expect(fs.readdirSync(path.join(r, "volumes")).sort()).toEqual([anon.Name, "data"].sort());
});

test("create: names Docker refuses are refused; a fill that throws leaves no volume", () => {
  const r = root();
  for (const bad of ["a", "-x", "has space", "../up", ".hidden", "a/b"]) expect(() => createVolume(r, bad)).toThrow(/invalid characters for a local volume name/);
  expect(() =>
    createVolume(r, "seeded", {
      fill: () => {
        throw new Error("seed failed");
      },
    }),
  ).toThrow("seed failed");
  expect(readVolume(r, "seeded")).toBeUndefined();
  expect(fs.readdirSync(path.join(r, "volumes"))).toEqual([]);
});

test("a volume made before records existed: its directory's time, anonymous when its name is 64 hex", () => {
  const r = root();
  fs.mkdirSync(path.join(r, "volumes", "old", "_data"), { recursive: true });
  fs.mkdirSync(path.join(r, "volumes", ID1, "_data"), { recursive: true });
  const byName = Object.fromEntries(listVolumes(r).map((v) => [v.Name, v]));
  expect(byName.old!.Anonymous).toBe(false);
  expect(byName.old!.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(byName[ID1]!.Anonymous).toBe(true);
});

test("rm: no such volume; in use by a stopped container names its id; -f on a missing one is quiet", () => {
  const r = root();
  expect(() => getVolume(r, "nope")).toThrow("No such volume: nope");
  expect(() => removeVolume(r, "nope")).toThrow(/no such volume/);
  removeVolume(r, "nope", { force: true });
  createVolume(r, "used");
  container(r, ID1, [{ Type: "volume", Name: "used", Destination: "/d" }]);
  container(r, ID2, [{ Type: "volume", Name: "used", Destination: "/e" }]);
  expect(() => removeVolume(r, "used")).toThrow(`volume is in use - [${ID1} ${ID2}]`);
  expect(() => removeVolume(r, "used", { force: true })).toThrow(/volume is in use/);
  fs.rmSync(path.join(r, "containers"), { recursive: true });
  removeVolume(r, "used");
  expect(readVolume(r, "used")).toBeUndefined();
});

test("a volume is in use by the container still being set up that made it, before that container records its mounts", () => {
  const r = root();
  container(r, ID1, []);
  createVolume(r, undefined, { createdBy: ID1 });
  expect(pruneVolumes(r).deleted).toEqual([]);
  fs.rmSync(path.join(r, "containers", ID1), { recursive: true });
  expect(pruneVolumes(r).deleted.length).toBe(1);
});

test("prune: anonymous unused only, unless all; label filters; bytes reclaimed", () => {
  const r = root();
  const anon = createVolume(r, undefined, { labels: { keep: "1" } }).volume;
  const anon2 = createVolume(r, undefined).volume;
  fs.writeFileSync(path.join(anon2.Mountpoint, "f"), "12345");
  createVolume(r, "named");
  const busy = createVolume(r, undefined).volume;
  container(r, ID1, [{ Type: "volume", Name: busy.Name, Anonymous: true }]);
  const filtered = pruneVolumes(r, { filters: parseVolumeFilters(["label!=keep"], ["label", "label!"]) });
  expect(filtered).toEqual({ deleted: [anon2.Name], bytes: 5 });
  const res = pruneVolumes(r, { all: true });
  expect(res.deleted.sort()).toEqual([anon.Name, "named"].sort());
  expect(listVolumes(r).map((v) => v.Name)).toEqual([busy.Name]);
});

test("filters: name is a substring, label key or key=value, dangling by use, bad filters refused", () => {
  const v = (Name: string, Labels: Record<string, string> = {}): Volume => ({ Name, Labels, Options: {}, Anonymous: false, CreatedAt: "", Mountpoint: "" });
  const f = (...specs: string[]) => parseVolumeFilters(specs);
  expect(matchVolume(v("mydata"), false, f("name=data"))).toBe(true);
  expect(matchVolume(v("mydata"), false, f("name=other"))).toBe(false);
  expect(matchVolume(v("x1", { env: "prod" }), false, f("label=env"))).toBe(true);
  expect(matchVolume(v("x1", { env: "prod" }), false, f("label=env=prod"))).toBe(true);
  expect(matchVolume(v("x1", { env: "prod" }), false, f("label=env=dev"))).toBe(false);
  expect(matchVolume(v("x1"), true, f("dangling=true"))).toBe(false);
  expect(matchVolume(v("x1"), false, f("dangling=true"))).toBe(true);
  expect(matchVolume(v("x1"), true, f("dangling=false"))).toBe(true);
  expect(matchVolume(v("x1"), false, f("driver=local"))).toBe(true);
  expect(matchVolume(v("x1"), false, f("driver=nfs"))).toBe(false);
  expect(() => f("bogus=1")).toThrow("invalid filter 'bogus'");
  expect(() => f("dangling=maybe")).toThrow("invalid filter 'dangling=maybe'");
  expect(() => f("noequals")).toThrow(/bad format of filter/);
  expect(() => parseVolumeFilters(["name=x"], ["label"])).toThrow("invalid filter 'name'");
});

test("volumeUsers: each container once per volume, binds and tmpfs ignored", () => {
  const recs = [
    { id: ID1, mounts: [{ Type: "volume", Name: "v" }, { Type: "volume", Name: "v" }, { Type: "bind", Source: "/x" }] },
    { id: ID2, mounts: [{ Type: "tmpfs" }] },
  ] as unknown as ContainerRecord[];
  expect([...volumeUsers(recs)]).toEqual([["v", [ID1]]]);
});
