// A recording Sys for unit tests: every call is appended to `calls`; xattrs and locks are kept in
// memory so code that reads back what it wrote behaves as on a real kernel.
import { SyscallError } from "../errors.ts";
import type { Sys } from "./sys.ts";

export interface FakeCall {
  op: keyof Sys;
  args: unknown[];
}

export interface FakeSys extends Sys {
  calls: FakeCall[];
  /** Make the next call of `op` fail with this errno name. */
  failNext(op: keyof Sys, code: string): void;
}

export function fakeSys(): FakeSys {
  const calls: FakeCall[] = [];
  const failures = new Map<keyof Sys, string>();
  const xattrs = new Map<string, Map<string, Uint8Array>>();
  const record = (op: keyof Sys, args: unknown[]) => {
    calls.push({ op, args });
    const code = failures.get(op);
    if (code) {
      failures.delete(op);
      throw new SyscallError(`${op} ${String(args[0])}`, 0, code);
    }
  };
  return {
    calls,
    failNext(op, code) {
      failures.set(op, code);
    },
    mount: (...args) => record("mount", args),
    umount: (...args) => record("umount", args),
    mknod: (...args) => record("mknod", args),
    lsetxattr(path, name, value) {
      record("lsetxattr", [path, name, value]);
      if (!xattrs.has(path)) xattrs.set(path, new Map());
      xattrs.get(path)!.set(name, value);
    },
    lgetxattr(path, name) {
      record("lgetxattr", [path, name]);
      return xattrs.get(path)?.get(name) ?? null;
    },
    llistxattr(path) {
      record("llistxattr", [path]);
      return [...(xattrs.get(path)?.keys() ?? [])];
    },
    flock(fd, op) {
      record("flock", [fd, op]);
      return true;
    },
    syncfs: (...args) => record("syncfs", args),
  };
}
