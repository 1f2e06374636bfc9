import { expect, test } from "bun:test";
import { relayStdio, stdioSources } from "../../../src/lifecycle/stdio-relay.ts";

test("stdioSources: a pipe where the caller's fd is a terminal, the fd itself where not, /dev/null for stdin without -i", () => {
  const all = () => true;
  const none = () => false;
  expect(stdioSources(false, all)).toEqual(["null", "relay", "relay"]);
  expect(stdioSources(true, all)).toEqual(["relay", "relay", "relay"]);
  expect(stdioSources(false, none)).toEqual(["null", "direct", "direct"]);
  expect(stdioSources(true, none)).toEqual(["direct", "direct", "direct"]);
  expect(stdioSources(true, (fd) => fd === 2)).toEqual(["direct", "direct", "relay"]);
});

test("relayStdio makes no pipe and asks nothing of stdin when no fd is a terminal (the run's fast path)", async () => {
  let pipes = 0;
  const r = relayStdio({ interactive: true, isTerminal: () => false, pipe: () => (pipes++, [-1, -1]) });
  expect(r.stdio).toEqual([0, 1, 2]);
  r.started();
  await r.finished(10_000); // nothing to wait for: at once
  r.close();
  expect(pipes).toBe(0);
});
