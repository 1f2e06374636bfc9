// `tinydock events`: what the engine and the monitor append to <root>/events.jsonl, in Docker's
// shape, read back with --since/--until, filters and formats, and followed until interrupted.
import { expect, test } from "bun:test";
import { until, useE2e } from "../helpers/e2e.ts";

const e = useE2e({ prefix: "td-events-e2e-" });

interface Ev {
  status: string;
  id: string;
  from: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}
const lines = (s: string): Ev[] => s.split("\n").filter(Boolean).map((l) => JSON.parse(l));
const now = () => String(Date.now() / 1000);

test("a foreground run and a detached one: create, start, die (with its exit code) in order", async () => {
  const since = now();
  expect(e.T(["run", "--name", "fg", "busybox", "sh", "-c", "exit 3"]).code).toBe(3);
  expect(e.T(["run", "-d", "--name", "bg", "busybox", "sh", "-c", "exit 5"]).code).toBe(0);
  await until("bg exited", () => e.T(["inspect", "-f", "{{.State.Status}}", "bg"]).stdout.trim() === "exited", 10_000, 50);
  const until_ = now();
  const r = e.T(["events", "--since", since, "--until", until_, "--format", "json"]);
  expect(r.code).toBe(0);
  const evs = lines(r.stdout);
  const of = (name: string) => evs.filter((x) => x.Actor.Attributes.name === name).map((x) => x.Action);
  expect(of("fg")).toEqual(["create", "start", "die"]);
  expect(of("bg")).toEqual(["create", "start", "die"]);
  const die = evs.find((x) => x.Action === "die" && x.Actor.Attributes.name === "bg")!;
  expect(die).toMatchObject({ status: "die", from: "busybox", Type: "container", scope: "local", Actor: { Attributes: { exitCode: "5", image: "busybox", name: "bg" } } });
  expect(die.id).toMatch(/^[a-f0-9]{64}$/);
  expect(die.time).toBe(Math.floor(die.timeNano / 1e9));
  expect(evs.find((x) => x.Action === "die" && x.Actor.Attributes.name === "fg")!.Actor.Attributes.exitCode).toBe("3");
  for (let i = 1; i < evs.length; i++) expect(evs[i]!.timeNano).toBeGreaterThanOrEqual(evs[i - 1]!.timeNano);
  // Filters: container=, event=, and the text format.
  const dies = e.T(["events", "--since", since, "--until", until_, "--filter", "event=die", "--filter", "container=bg"]);
  expect(dies.stdout.trim().split("\n")).toHaveLength(1);
  // Docker's text line: every attribute, the image's labels too, sorted by key.
  expect(dies.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container die [a-f0-9]{64} \(exitCode=5, image=busybox, name=bg, org\.opencontainers\.image\.description=.*, org\.opencontainers\.image\.title=busybox\)\n$/);
  expect(e.T(["events", "--since", since, "--until", until_, "--format", "{{.Action}} {{.Actor.Attributes.name}}", "--filter", "container=fg"]).stdout).toBe("create fg\nstart fg\ndie fg\n");
  expect(e.T(["events", "--filter", "bogus=1", "--until", now()]).stderr).toContain("Invalid filter 'bogus'");
  expect(e.T(["rm", "fg", "bg"]).code).toBe(0);
}, 60_000);

test("a template sees events.Message's Go fields (Status, ID, From, Scope, Time, TimeNano); {{json .}} stays the JSON", () => {
  const since = now();
  const id = e.T(["create", "--name", "gofields", "busybox"]).stdout.trim();
  const until_ = String(Date.now() / 1000 + 1);
  const r = e.T(["events", "--since", since, "--until", until_, "--filter", "container=gofields", "--format", "{{.Status}} {{.ID}} {{.From}} {{.Scope}} {{.Time}} {{.TimeNano}} {{json .}}"]);
  expect(r.stderr).toBe("");
  const [status, eid, from, scope, time, timeNano, ...json] = r.stdout.trim().split(" ");
  const ev = JSON.parse(json.join(" ")) as Ev;
  expect([status, eid, from, scope, Number(time), Number(timeNano)]).toEqual(["create", id, "busybox", "local", ev.time, ev.timeNano]);
  expect(Object.keys(ev)).toEqual(["status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"]);
  expect(e.T(["rm", "gofields"]).code).toBe(0);
});

test("events follows the file until interrupted: rename, pause, unpause, kill, destroy as they happen", async () => {
  const follower = e.spawn(["events", "--format", "{{.Action}} {{.Actor.Attributes.name}}"]);
  try {
    await Bun.sleep(500);
    expect(e.T(["run", "-d", "--name", "f1", "busybox", "sleep", "60"]).code).toBe(0);
    expect(e.T(["rename", "f1", "f2"]).code).toBe(0);
    expect(e.T(["pause", "f2"]).code).toBe(0);
    expect(e.T(["unpause", "f2"]).code).toBe(0);
    expect(e.T(["kill", "f2"]).code).toBe(0);
    await until("f2 exited", () => e.T(["inspect", "-f", "{{.State.Status}}", "f2"]).stdout.trim() === "exited", 10_000, 50);
    expect(e.T(["rm", "f2"]).code).toBe(0);
    await Bun.sleep(400);
  } finally {
    follower.kill("SIGINT");
  }
  const code = await Promise.race([follower.exited, Bun.sleep(5000).then(() => "hung")]);
  expect(code).toBe(0);
  const out = await new Response(follower.stdout).text();
  expect(out.split("\n").filter(Boolean)).toEqual(["create f1", "start f1", "rename f2", "pause f2", "unpause f2", "kill f2", "die f2", "destroy f2"]);
}, 60_000);

test("health_status events come from the monitor", async () => {
  const since = now();
  expect(e.T(["run", "-d", "--name", "h", "--health-cmd", "true", "--health-interval", "100ms", "busybox", "sleep", "60"]).code).toBe(0);
  await until("healthy", () => e.T(["events", "--since", since, "--until", now(), "--filter", "event=health_status"]).stdout.includes("health_status: healthy"), 10_000, 100);
  expect(e.T(["rm", "-f", "h"]).code).toBe(0);
}, 30_000);

test("every event of a labelled container carries its labels, the monitor's (start, die) too: --filter label= sees them all", async () => {
  const since = now();
  expect(e.T(["run", "-d", "--name", "lab", "-l", "team=a", "-l", 'q="x"', "busybox", "sh", "-c", "exit 4"]).code).toBe(0);
  await until("lab exited", () => e.T(["inspect", "-f", "{{.State.Status}}", "lab"]).stdout.trim() === "exited", 10_000, 50);
  const r = e.T(["events", "--since", since, "--until", now(), "--filter", "label=team=a", "--format", "json"]);
  const evs = lines(r.stdout);
  expect(evs.map((x) => x.Action)).toEqual(["create", "start", "die"]);
  for (const x of evs) expect(x.Actor.Attributes).toMatchObject({ team: "a", q: '"x"', name: "lab", image: "busybox" });
  expect(evs[2]!.Actor.Attributes.exitCode).toBe("4");
  expect(e.T(["rm", "lab"]).code).toBe(0);
});
