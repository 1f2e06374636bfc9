// state.json's two parts (store/containers.ts recordJson): `ps` reads only the first line, name
// lookups only its start; the record read whole is the record saved. Whatever a crash leaves (an
// old-shaped file, a torn one, a create killed before its record) lists as the full read would.
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  checkNameFree,
  containerNames,
  findContainer,
  listContainers,
  listListed,
  namesInUse,
  readContainer,
  recordJson,
  saveContainer,
  type ContainerRecord,
} from "../../../src/store/containers.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

const mk = (id: string, name: string): ContainerRecord => ({
  id,
  name,
  image: "busybox",
  imageId: `sha256:${"0".repeat(64)}`,
  created: "2026-11-23T22:00:00Z",
  args: ["sh", "-c", "echo \"hi\"\nthere"],
  hostname: id.slice(0, 12),
  state: { status: "created", pid: 0, exitCode: 0, oomKilled: false, startedAt: "", finishedAt: "" },
  labels: { "a\nb": "x\"y" },
  autoRemove: false,
  restartPolicy: { name: "no", maximumRetryCount: 0 },
  config: { Cmd: ["sh"], Labels: { "a\nb": "x\"y" } },
  hostConfig: { Binds: null, CgroupParent: "" },
  cgroupPath: ["/sys/fs/cgroup/freezer/tinydock/x"],
});

let root = "";
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function newRoot(): string {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "td-listed-"));
  return root;
}

function write(id: string, text: string): void {
  fs.mkdirSync(path.join(root, "containers", id), { recursive: true });
  fs.writeFileSync(path.join(root, "containers", id, "state.json"), text);
}

const sortById = <T extends { id: string }>(l: T[]) => [...l].sort((x, y) => (x.id < y.id ? -1 : 1));

describe("recordJson", () => {
  test("one JSON object: the listed fields on the first line, compact; id and name first", () => {
    const rec = mk(A, "web");
    const text = recordJson(rec);
    expect(JSON.parse(text)).toEqual(rec);
    const first = text.slice(0, text.indexOf("\n"));
    expect(first.startsWith(`{"id":"${A}","name":"web",`)).toBe(true);
    for (const k of ["hostConfig", "hostname", "restartPolicy", "autoRemove"]) expect(first).not.toContain(`"${k}":`);
    expect(first).toContain('"cgroupPath":');
    expect(text.endsWith("\n}\n")).toBe(true);
  });

  test("a record with only listed fields, or only unlisted ones, is still one object", () => {
    expect(JSON.parse(recordJson({ id: A, name: "x" }))).toEqual({ id: A, name: "x" });
    expect(JSON.parse(recordJson({ hostConfig: { a: 1 } }))).toEqual({ hostConfig: { a: 1 } });
  });
});

describe("listing reads the first line only", () => {
  test("listListed: every record without its unlisted fields; the full read is the record saved", () => {
    newRoot();
    for (const [id, n] of [[A, "web"], [B, "db"]] as const) {
      fs.mkdirSync(path.join(root, "containers", id), { recursive: true });
      saveContainer(root, mk(id, n));
    }
    const { hostConfig: _h, hostname: _n, restartPolicy: _r, autoRemove: _a, ...listed } = mk(A, "web");
    expect(sortById(listListed(root))).toEqual([listed, expect.objectContaining({ id: B, name: "db" })]);
    expect(listListed(root).some((r) => "hostConfig" in r)).toBe(false);
    expect(readContainer(root, A)).toEqual(mk(A, "web"));
    expect(sortById(containerNames(root))).toEqual([{ id: A, name: "web" }, { id: B, name: "db" }]);
  });

  test("records written before (pretty) or by hand (compact, no newline) list whole, and are found by name", () => {
    newRoot();
    write(A, `${JSON.stringify(mk(A, "old"), null, 2)}\n`);
    write(B, JSON.stringify(mk(B, "hand")));
    expect(sortById(listListed(root))).toEqual([mk(A, "old"), mk(B, "hand")]);
    expect(sortById(containerNames(root))).toEqual([{ id: A, name: "old" }, { id: B, name: "hand" }]);
    expect(findContainer(root, "hand").id).toBe(B);
    expect(() => checkNameFree(root, "old")).toThrow('The container name "/old" is already in use');
  });

  test("a state.json cut short after its first line (a lost write) is no container to any reader", () => {
    newRoot();
    const whole = recordJson(mk(A, "torn"));
    write(A, whole.slice(0, whole.indexOf("hostConfig")));
    write(B, "");
    write(C, recordJson(mk(C, "ok")));
    for (const list of [listListed(root), containerNames(root), listContainers(root)]) expect(list.map((r) => r.id)).toEqual([C]);
    expect(() => findContainer(root, "torn")).toThrow("No such container: torn");
    expect(() => checkNameFree(root, "torn")).not.toThrow();
  });

  test("a rename is seen by name at once; the old name is free", () => {
    newRoot();
    fs.mkdirSync(path.join(root, "containers", A), { recursive: true });
    saveContainer(root, mk(A, "before"));
    saveContainer(root, { ...readContainer(root, A)!, name: "after" });
    expect(findContainer(root, "after").id).toBe(A);
    expect(() => findContainer(root, "before")).toThrow("No such container: before");
    expect(() => checkNameFree(root, "before")).not.toThrow();
    expect(listListed(root).map((r) => r.name)).toEqual(["after"]);
  });

  test("a removed container, or a create killed before its record, holds no name", () => {
    newRoot();
    fs.mkdirSync(path.join(root, "containers", A), { recursive: true });
    saveContainer(root, mk(A, "gone"));
    fs.rmSync(path.join(root, "containers", A), { recursive: true });
    // A create killed mid-way: its directory (named or still .creating-) without state.json.
    fs.mkdirSync(path.join(root, "containers", B), { recursive: true });
    fs.mkdirSync(path.join(root, "containers", `.creating-${C}`), { recursive: true });
    expect(listListed(root)).toEqual([]);
    expect(containerNames(root)).toEqual([]);
    expect(() => checkNameFree(root, "gone")).not.toThrow();
    expect(() => findContainer(root, "gone")).toThrow("No such container: gone");
  });

  test("a prefix of an id still finds its container; two matches are Docker's error", () => {
    newRoot();
    const A2 = `a${"b".repeat(63)}`;
    for (const [id, n] of [[A, "one"], [A2, "two"]] as const) {
      fs.mkdirSync(path.join(root, "containers", id), { recursive: true });
      saveContainer(root, mk(id, n));
    }
    expect(findContainer(root, "aaa").name).toBe("one");
    expect(() => findContainer(root, "a")).toThrow("Multiple IDs found with provided prefix: a");
    expect(findContainer(root, "/two").id).toBe(A2);
  });
});

describe("namesInUse: the names a generated name avoids", () => {
  test("read from each state.json's first 256 bytes; a long name, a pretty or a hand-written record read whole; a torn one still counts", () => {
    newRoot();
    const long = `n${"x".repeat(300)}`;
    write(A, recordJson(mk(A, "web")));
    write(B, `${JSON.stringify(mk(B, "old"), null, 2)}\n`);
    write(C, recordJson(mk(C, long)));
    const D = "d".repeat(64);
    const torn = recordJson(mk(D, "torn"));
    write(D, torn.slice(0, torn.indexOf("hostConfig")));
    fs.mkdirSync(path.join(root, "containers", "e".repeat(64)), { recursive: true }); // no state.json yet
    const reads: number[] = [];
    const real = fs.readSync;
    const spy = spyOn(fs, "readSync").mockImplementation(((...a: Parameters<typeof fs.readSync>) => {
      const n = real(...a);
      reads.push(n);
      return n;
    }) as typeof fs.readSync);
    try {
      expect([...namesInUse(root)].sort()).toEqual(["old", "torn", "web", long].sort());
    } finally {
      spy.mockRestore();
    }
    // One 256-byte read per record, none of a record's tail (hostConfig is most of one).
    expect(reads.length).toBe(4);
    expect(Math.max(...reads)).toBeLessThanOrEqual(256);
  });
});
