// --sysctl k=v: only the keys a container's own namespaces hold, as Docker's (opts.ValidateSysctl)
// and runc's (libcontainer/configs/validate) checks allow: IPC's kernel.msg*, kernel.sem,
// kernel.shm*, fs.mqueue.*, and net.* (the network namespace's; refused with the host's network).
// Pure.
import { ParseError } from "../errors.ts";

/** The namespace a key lives in. */
export type SysctlNamespace = "ipc" | "net" | "uts";

const IPC_KEYS = new Set(["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]);
const UTS_KEYS = new Set(["kernel.domainname", "kernel.hostname"]);

export interface Sysctl {
  key: string;
  value: string;
  ns: SysctlNamespace;
}

/** The namespace holding `key`, or null when it is the host's (not namespaced). */
export function sysctlNamespace(key: string): SysctlNamespace | null {
  if (IPC_KEYS.has(key) || key.startsWith("fs.mqueue.")) return "ipc";
  if (key.startsWith("net.")) return "net";
  if (UTS_KEYS.has(key)) return "uts";
  return null;
}

/** `--sysctl net.ipv4.ip_forward=1` (a key may be written with / as in /proc/sys). */
export function parseSysctl(input: string): Sysctl {
  const eq = input.indexOf("=");
  if (eq <= 0) throw new ParseError(`Cannot parse sysctl "${input}": expected key=value`);
  const key = input.slice(0, eq).trim().replaceAll("/", ".");
  const value = input.slice(eq + 1);
  if (!/^[A-Za-z0-9_.\-]+$/.test(key) || key.split(".").some((p) => p === "" || p === ".." )) throw new ParseError(`Cannot parse sysctl "${input}": not a sysctl key`);
  const ns = sysctlNamespace(key);
  if (!ns) throw new ParseError(`Cannot parse sysctl "${input}": sysctl '${key}' is not allowed (not namespaced: only net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)`);
  return { key, value, ns };
}

/**
 * The sysctls against the namespaces the container gets (runc's checks): net.* needs a network
 * namespace of its own, the IPC keys an IPC namespace of its own, kernel.hostname a UTS one.
 */
export function checkSysctls(sysctls: Sysctl[], modes: { network: string; ipc: string; uts: string }): void {
  for (const s of sysctls) {
    if (s.ns === "net" && (modes.network === "host" || modes.network.startsWith("container:"))) {
      throw new ParseError(`Cannot use sysctl "${s.key}": sysctl '${s.key}' is not allowed in host network mode`);
    }
    if (s.ns === "ipc" && (modes.ipc === "host" || modes.ipc.startsWith("container:"))) {
      throw new ParseError(`Cannot use sysctl "${s.key}": sysctl '${s.key}' is not allowed in host IPC namespace mode`);
    }
    if (s.ns === "uts" && (modes.uts === "host" || modes.uts.startsWith("container:"))) {
      throw new ParseError(`Cannot use sysctl "${s.key}": sysctl '${s.key}' is not allowed in host UTS namespace mode`);
    }
  }
}

/** Where the key is under /proc/sys. */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replaceAll(".", "/")}`;
}
