// What Docker users' scripts and CI jobs type, checked against Docker's documented output and exit
// codes (its daemon's messages word for word where scripts match on them). The compiled binary, in a
// network namespace of this file's own.
import { describe, expect, test } from "bun:test";
import { useE2e } from "../helpers/e2e.ts";

const e = useE2e({ prefix: "td-conform-" });
const ok = (args: string[]): string => {
  const r = e.T(args);
  if (r.code !== 0) throw new Error(`tinydock ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};

describe("rmi of an image a container uses: Docker's conflicts", () => {
  test("by name (must force), by id with a stopped (must be forced) or running container (cannot be forced), by id with several tags", () => {
    const id = ok(["images", "-q", "busybox"]).trim();
    ok(["create", "--name", "rmi-user", "busybox", "true"]);
    const user = ok(["inspect", "-f", "{{.Id}}", "rmi-user"]).trim().slice(0, 12);
    const byName = e.T(["rmi", "busybox"]);
    expect(byName).toEqual({ code: 1, stdout: "", stderr: `Error: conflict: unable to remove repository reference "busybox" (must force) - container ${user} is using its referenced image ${id}\n` });
    expect(e.T(["rmi", id]).stderr).toBe(`Error: conflict: unable to delete ${id} (must be forced) - image is being used by stopped container ${user}\n`);
    ok(["rm", "rmi-user"]);
    const running = e.runDetached(["--name", "rmi-running", "busybox", "sleep", "300"]).slice(0, 12);
    for (const args of [["rmi", id], ["rmi", "-f", id]]) {
      expect(e.T(args)).toEqual({ code: 1, stdout: "", stderr: `Error: conflict: unable to delete ${id} (cannot be forced) - image is being used by running container ${running}\n` });
    }
    ok(["rm", "-f", "rmi-running"]);
    ok(["tag", "busybox", "other/name:v1"]);
    expect(e.T(["rmi", id]).stderr).toBe(`Error: conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories\n`);
    expect(ok(["rmi", "other/name:v1"])).toBe("Untagged: other/name:v1\n");
    expect(ok(["images", "-q"])).toBe(`${id}\n`);
  });
});
