// src/rootfs/beneath.ts on a real temp tree (openat2 needs no privilege): nothing it opens is a
// FIFO or device, nothing it writes goes through a symlink, reads are capped.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BENEATH, copyEntryAt, createFileAt, ensureDirAt, FileTooLargeError, IN_ROOT, NotRegularFileError, openDirAt, readFileAt } from "../../../src/rootfs/beneath.ts";
import { linuxSys } from "../../../src/sys/linux.ts";

const sys = linuxSys();
let dir: string;
let outside: string;
let root: number;
const mkfifo = (p: string) => expect(Bun.spawnSync(["mkfifo", p]).exitCode).toBe(0);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-beneath-"));
  outside = path.join(dir, "outside");
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, "secret"), "SECRET\n");
  fs.mkdirSync(path.join(dir, "tree", "etc"), { recursive: true });
  root = fs.openSync(path.join(dir, "tree"), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
});
afterEach(() => {
  fs.closeSync(root);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("readFileAt", () => {
  test("a FIFO is refused at once, a sparse file by its size, a symlink out resolves inside", () => {
    mkfifo(path.join(dir, "tree", "etc", "passwd"));
    expect(() => readFileAt(sys, root, "etc/passwd", 1024, IN_ROOT)).toThrow(NotRegularFileError);
    fs.writeFileSync(path.join(dir, "tree", "etc", "passwd.big"), "");
    fs.truncateSync(path.join(dir, "tree", "etc", "passwd.big"), 1 << 30);
    expect(() => readFileAt(sys, root, "etc/passwd.big", 1024, IN_ROOT)).toThrow(FileTooLargeError);
    fs.symlinkSync(path.join(outside, "secret"), path.join(dir, "tree", "etc", "group"));
    expect(readFileAt(sys, root, "etc/group", 1024, IN_ROOT)).toBeUndefined();
    fs.writeFileSync(path.join(dir, "tree", "etc", "hosts"), "127.0.0.1 localhost\n");
    expect(readFileAt(sys, root, "etc/hosts", 1024, IN_ROOT)).toBe("127.0.0.1 localhost\n");
  });
});

describe("writing", () => {
  test("createFileAt replaces a FIFO and a symlink, truncates a regular file in place", () => {
    const etc = openDirAt(sys, root, "etc", BENEATH);
    try {
      mkfifo(path.join(dir, "tree", "etc", "f"));
      fs.symlinkSync(path.join(outside, "secret"), path.join(dir, "tree", "etc", "l"));
      fs.writeFileSync(path.join(dir, "tree", "etc", "r"), "old content\n");
      const ino = fs.statSync(path.join(dir, "tree", "etc", "r")).ino;
      for (const n of ["f", "l", "r"]) {
        const fd = createFileAt(sys, etc, n, 0o644);
        fs.writeSync(fd, `new ${n}\n`);
        fs.closeSync(fd);
        expect(fs.lstatSync(path.join(dir, "tree", "etc", n)).isFile()).toBe(true);
        expect(fs.readFileSync(path.join(dir, "tree", "etc", n), "utf8")).toBe(`new ${n}\n`);
      }
      expect(fs.statSync(path.join(dir, "tree", "etc", "r")).ino).toBe(ino);
      expect(fs.readFileSync(path.join(outside, "secret"), "utf8")).toBe("SECRET\n");
    } finally {
      fs.closeSync(etc);
    }
  });

  test("ensureDirAt replaces a symlink to a directory; copyEntryAt follows no link on either side", () => {
    fs.symlinkSync(outside, path.join(dir, "tree", "d"));
    fs.closeSync(ensureDirAt(sys, root, "d", 0o755));
    expect(fs.lstatSync(path.join(dir, "tree", "d")).isDirectory()).toBe(true);
    // Source: a dir with a link out and a FIFO; destination: a link out where the dir goes.
    const src = path.join(dir, "src");
    fs.mkdirSync(path.join(src, "x"), { recursive: true });
    fs.writeFileSync(path.join(src, "x", "file"), "copied\n");
    fs.symlinkSync(outside, path.join(src, "x", "out"));
    mkfifo(path.join(src, "x", "pipe"));
    fs.symlinkSync(outside, path.join(dir, "tree", "x"));
    const s = fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      expect(copyEntryAt(sys, s, "x", root, "x")).toBe(7);
    } finally {
      fs.closeSync(s);
    }
    expect(fs.readdirSync(outside)).toEqual(["secret"]);
    expect(fs.readdirSync(path.join(dir, "tree", "x")).sort()).toEqual(["file", "out"]);
    expect(fs.readlinkSync(path.join(dir, "tree", "x", "out"))).toBe(outside);
  });
});
