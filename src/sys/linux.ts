// The real Sys: thin wrappers over libc that turn -1 into a SyscallError naming the call.
import { SyscallError } from "../errors.ts";
import { cstr, errno, errnoName, lib } from "./ffi.ts";
import { LOCK_NB, mountFlagNames, type Sys } from "./sys.ts";

const ENODATA = 61;
const EWOULDBLOCK = 11;
const ERANGE = 34;

function fail(operation: string): never {
  const n = errno();
  throw new SyscallError(operation, n, errnoName(n));
}

export function linuxSys(): Sys {
  return {
    mount(source, target, fstype, flags, data) {
      const rc = lib().mount(cstr(source), cstr(target), cstr(fstype), flags, cstr(data));
      if (rc !== 0) fail(`mount ${fstype ?? source ?? "none"} on ${target} (${mountFlagNames(flags)})`);
    },
    umount(target, flags) {
      if (lib().umount2(cstr(target), flags) !== 0) fail(`umount ${target}`);
    },
    mknod(path, mode, dev) {
      if (lib().mknod(cstr(path), mode, dev) !== 0) fail(`mknod ${path} (mode 0${mode.toString(8)})`);
    },
    lsetxattr(path, name, value) {
      const buf = Buffer.from(value);
      if (lib().lsetxattr(cstr(path), cstr(name), buf.length ? buf : null, buf.length, 0) !== 0) {
        fail(`setxattr ${name} on ${path}`);
      }
    },
    lgetxattr(path, name) {
      let size = 256;
      for (;;) {
        const buf = Buffer.alloc(size);
        const n = Number(lib().lgetxattr(cstr(path), cstr(name), buf, size));
        if (n >= 0) return new Uint8Array(buf.subarray(0, n));
        const e = errno();
        if (e === ENODATA) return null;
        if (e === ERANGE && size < 1 << 20) {
          size *= 4;
          continue;
        }
        throw new SyscallError(`getxattr ${name} on ${path}`, e, errnoName(e));
      }
    },
    llistxattr(path) {
      let size = 1024;
      for (;;) {
        const buf = Buffer.alloc(size);
        const n = Number(lib().llistxattr(cstr(path), buf, size));
        if (n >= 0) return buf.subarray(0, n).toString("utf8").split("\0").filter(Boolean);
        const e = errno();
        if (e === ERANGE && size < 1 << 20) {
          size *= 4;
          continue;
        }
        throw new SyscallError(`listxattr ${path}`, e, errnoName(e));
      }
    },
    flock(fd, op) {
      if (lib().flock(fd, op) === 0) return true;
      const e = errno();
      if (e === EWOULDBLOCK && op & LOCK_NB) return false;
      throw new SyscallError(`flock fd ${fd}`, e, errnoName(e));
    },
    syncfs(fd) {
      if (lib().syncfs(fd) !== 0) fail(`syncfs fd ${fd}`);
    },
  };
}
