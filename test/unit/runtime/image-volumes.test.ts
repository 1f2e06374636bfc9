import { expect, test } from "bun:test";
import { parseVolumeFlag, withImageVolumes } from "../../../src/runtime/volumes.ts";

test("image VOLUMEs: an anonymous volume each, in path order, unless the run mounts that path itself", () => {
  const specs = [parseVolumeFlag("named:/data"), parseVolumeFlag("/host:/etc/conf:ro")];
  expect(withImageVolumes(specs, { "/var/log": {}, "/data": {}, "/cache/": {} })).toEqual([
    ...specs,
    { type: "volume", target: "/cache", readonly: false, nocopy: false },
    { type: "volume", target: "/var/log", readonly: false, nocopy: false },
  ]);
  expect(withImageVolumes([], null)).toEqual([]);
  expect(withImageVolumes([], undefined)).toEqual([]);
  // "/data/" and "/data" are one path: one volume
  expect(withImageVolumes([], { "/data/": {}, "/data": {} })).toHaveLength(1);
});

test("image VOLUMEs a run could not mount are refused, as the same -v would be", () => {
  for (const bad of ["relative", "/"]) {
    expect(() => withImageVolumes([], { [bad]: {} })).toThrow(/Cannot parse image volume/);
  }
  // runc's checkProcMount, in its words; /sys is Docker's and runc's to mount over.
  for (const bad of ["/proc", "/proc/sys", "/x/../proc"]) {
    expect(() => withImageVolumes([], { [bad]: {} })).toThrow(/cannot be mounted because it is inside \/proc/);
  }
  expect(withImageVolumes([], { "/sys/kernel": {}, "/proc/meminfo": {} }).map((v) => v.target)).toEqual(["/proc/meminfo", "/sys/kernel"]);
});
