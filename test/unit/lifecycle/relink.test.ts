// moby's etchosts.Update: the lines whose first name is the alias get the new address, no other.
import { expect, test } from "bun:test";
import { rehost } from "../../../src/lifecycle/relink.ts";

test("rehost: only lines whose first name is the alias", () => {
  const text = "127.0.0.1\tlocalhost\n10.29.0.2\tdb 1a2b3c4d5e6f lt\n10.29.0.5\tdbx other\n10.29.0.6\tweb db\n";
  expect(rehost(text, "db", "10.29.0.9")).toBe("127.0.0.1\tlocalhost\n10.29.0.9\tdb 1a2b3c4d5e6f lt\n10.29.0.5\tdbx other\n10.29.0.6\tweb db\n");
  expect(rehost(text, "nothere", "10.29.0.9")).toBe(text);
});
