// `-u name|uid[:group|gid]` resolved through the image's /etc/passwd and /etc/group, as runc's
// user package does. Pure: the files' text is passed in.
import { FailedPreconditionError, NotFoundError, ParseError } from "../errors.ts";

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

const ID_MAX = 2 ** 31 - 1;

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5] || "/" });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 4) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: f[3] ? f[3].split(",").filter(Boolean) : [] });
  }
  return out;
}

function numericId(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= ID_MAX ? n : undefined;
}

/**
 * Docker's rules: a numeric uid need not exist in passwd (gid then defaults to 0... or the entry's
 * gid when it does); a name must exist; the group part overrides the primary gid; supplementary
 * groups come from /etc/group memberships of the user name, plus --group-add.
 */
export function resolveUser(spec: string, passwd: PasswdEntry[], groups: GroupEntry[], groupAdd: string[] = []): ResolvedUser {
  const text = spec || "0";
  const [userPart, groupPart, extra] = text.split(":");
  if (extra !== undefined || userPart === "") throw new ParseError(`Cannot parse user "${spec}": expected name|uid[:group|gid]`);
  let entry: PasswdEntry | undefined;
  let uid: number;
  const asNumber = numericId(userPart!);
  if (asNumber !== undefined) {
    uid = asNumber;
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new NotFoundError(`Cannot find user "${userPart}": no matching entries in passwd file`);
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined) {
    if (groupPart === "") throw new ParseError(`Cannot parse user "${spec}": empty group`);
    const g = numericId(groupPart);
    if (g !== undefined) gid = g;
    else {
      const ge = groups.find((x) => x.name === groupPart);
      if (!ge) throw new NotFoundError(`Cannot find group "${groupPart}": no matching entries in group file`);
      gid = ge.gid;
    }
  }
  const additional = new Set<number>();
  if (entry && groupPart === undefined) {
    for (const g of groups) if (g.members.includes(entry.name) && g.gid !== gid) additional.add(g.gid);
  }
  for (const ga of groupAdd) {
    const n = numericId(ga);
    if (n !== undefined) additional.add(n);
    else {
      const ge = groups.find((x) => x.name === ga);
      if (!ge) throw new NotFoundError(`Cannot find group "${ga}": no matching entries in group file`);
      additional.add(ge.gid);
    }
  }
  return { uid, gid, additionalGids: [...additional].sort((a, b) => a - b), home: entry?.home ?? (uid === 0 ? "/root" : "/") };
}

/** Kubernetes' securityContext where it needs the image's user: runAsGroup without runAsUser, runAsNonRoot. */
export interface ImageUserRule {
  /** The image's user with this primary group. */
  group?: number;
  /** Refuse when the image's user is root, or a name the kubelet cannot judge. */
  nonRoot?: boolean;
}

/**
 * The user spec a container runs as, from the image's USER and the rule, as the kubelet decides it
 * (kuberuntime's verifyRunAsNonRoot): an empty USER (or "root") is root, and another user name
 * cannot be verified as non-root, so it is refused too, in the kubelet's words.
 */
export function imageUserSpec(imageUser: string, rule: ImageUserRule, container: string): string {
  const userPart = imageUser.split(":")[0] ?? "";
  if (rule.nonRoot) {
    // "root" is uid 0 in every passwd: named, it is root for certain (the kubelet only says it cannot tell).
    const uid = userPart === "" || userPart === "root" ? 0 : numericId(userPart);
    const why = uid === 0 ? "image will run as root" : uid === undefined ? `image has non-numeric user (${userPart}), cannot verify user is non-root` : undefined;
    if (why) throw new FailedPreconditionError(`Cannot start container "${container}": container has runAsNonRoot and ${why}`);
  }
  return rule.group === undefined ? imageUser : `${userPart || "0"}:${rule.group}`;
}
