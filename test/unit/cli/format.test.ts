import { expect, test } from "bun:test";
import { humanDuration, humanSize, table } from "../../../src/cli/format.ts";

test("sizes as Docker prints them", () => {
  expect(humanSize(0)).toBe("0B");
  expect(humanSize(999)).toBe("999B");
  expect(humanSize(4_261_000)).toBe("4.26MB");
  expect(humanSize(12_345_678)).toBe("12.3MB");
  expect(humanSize(123_456_789)).toBe("123MB");
  expect(humanSize(1_500_000_000)).toBe("1.5GB");
});

test("durations as go-units prints them", () => {
  expect(humanDuration(500)).toBe("Less than a second");
  expect(humanDuration(45_000)).toBe("45 seconds");
  expect(humanDuration(3_600_000)).toBe("About an hour");
  expect(humanDuration(3 * 86_400_000)).toBe("3 days");
  expect(humanDuration(3 * 365 * 86_400_000)).toBe("3 years");
});

test("tables pad columns", () => {
  expect(table(["A", "BB"], [["xxxx", "y"]])).toBe("A      BB\nxxxx   y\n");
});
