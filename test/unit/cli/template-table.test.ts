// `--format "table ..."` as docker/cli's formatter renders it: a header row from the command's
// header map through Docker's HeaderFunctions, rows below, aligned by Go's tabwriter with
// minwidth 10, padding 3.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { isTableFormat, renderTable, tabwrite } from "../../../src/cli/template.ts";
import { alignCells, DOCKER_TABS } from "../../../src/cli/template/table.ts";

const HEADERS = { ID: "CONTAINER ID", Image: "IMAGE", Names: "NAMES", Status: "STATUS" };
const rows = [
  { ID: "3b2f1c0d9e8a", Image: "busybox", Names: "web", Status: "Up 2 minutes", Label: (k: unknown) => (k === "tier" ? "front" : "") },
  { ID: "77aa00bb11cc", Image: "registry:2", Names: "a-much-longer-name", Status: "Exited (0) 1 hour ago", Label: () => "" },
];

describe("tabwrite (Go's text/tabwriter, NewWriter(out, 10, 1, 3, ' ', 0))", () => {
  test.each([
    ["a\tb\n", "a         b\n"],
    ["CONTAINER ID\tNAMES\nabc\tweb\n", "CONTAINER ID   NAMES\nabc            web\n"],
    ["x\ty\tz\n", "x         y         z\n"],
    // A line without the column ends the block: the next block is sized on its own.
    ["aaaaaaaaaaaaaaa\tx\nno tabs\nb\ty\n", "aaaaaaaaaaaaaaa   x\nno tabs\nb         y\n"],
    // Trailing cells are not part of a column; an empty tab-terminated cell is still padded.
    ["a\t\n", "a         \n"],
    ["é\tb\n", "é         b\n"],
    // Widths count code points, as Go counts runes: an emoji (a surrogate pair) is one.
    ["😀\tb\nxyz\tc\n", `😀${" ".repeat(9)}b\nxyz${" ".repeat(7)}c\n`],
    // Nested columns: the second column's block ends where a line has no second cell.
    ["a\tbbbbbbbbbbbbbbb\tc\nd\te\nf\tg\th\n", "a         bbbbbbbbbbbbbbb   c\nd         e\nf         g         h\n"],
    ["", ""],
  ])("%j", (input, want) => expect(tabwrite(input)).toBe(want));

  test("alignCells: lines with as many cells each (the padEnd layout) align as the general layout does", () => {
    const cell = fc.stringMatching(/^[a-z ]{0,14}$/);
    const table = fc.integer({ min: 1, max: 6 }).chain((n) =>
      fc.tuple(fc.array(fc.array(cell, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 8 }), fc.array(cell, { minLength: 1, maxLength: n })),
    );
    fc.assert(
      fc.property(table, ([lines, last]) => {
        const cells = [...lines, last];
        // wide: true takes the general layout (code points count as UTF-16 units in this ASCII).
        expect(alignCells(cells)).toBe(alignCells(cells, DOCKER_TABS, true));
        expect(alignCells(cells)).toBe(tabwrite(cells.map((l) => l.join("\t")).join("\n")));
      }),
      { numRuns: 500 },
    );
  });
  test("alignCells: a cell with surrogates is laid out again by code points", () => {
    expect(alignCells([["😀", "b"], ["xyz", "c"], [""]])).toBe(`😀${" ".repeat(9)}b\nxyz${" ".repeat(7)}c\n`);
  });

  test("a line of 100000 cells does not overflow the stack", () => {
    expect(tabwrite(`${"x\t".repeat(100_000)}\n`).length).toBe(1_000_001);
  });
});

describe("renderTable", () => {
  test("header from the header map, rows aligned, as `docker ps --format 'table {{.ID}}\\t{{.Image}}'`", () => {
    expect(renderTable("table {{.ID}}\\t{{.Image}}\\t{{.Names}}", HEADERS, rows)).toBe(
      [
        "CONTAINER ID   IMAGE        NAMES",
        "3b2f1c0d9e8a   busybox      web",
        "77aa00bb11cc   registry:2   a-much-longer-name",
        "",
      ].join("\n"),
    );
  });

  test("Docker's header functions leave the column name as it is", () => {
    expect(renderTable('table {{upper .Names}}\\t{{json .ID}}\\t{{truncate .Status 2}}\\t{{join (split .Image ":") "-"}}', HEADERS, rows.slice(0, 1))).toBe(
      ['NAMES     CONTAINER ID     STATUS    IMAGE', 'WEB       "3b2f1c0d9e8a"   Up        busybox', ""].join("\n"),
    );
  });

  test("a header the template cannot make is cut short there; rows still call the data's methods", () => {
    expect(renderTable('table {{.Names}}\\t{{.Label "tier"}}', HEADERS, rows)).toBe(
      ["NAMES                ", "web                  front", "a-much-longer-name   ", ""].join("\n"),
    );
  });

  test("no rows: the header alone; 'table' needs no space after it", () => {
    expect(renderTable("table{{.ID}}", HEADERS, [])).toBe("CONTAINER ID\n");
  });

  test("a row the template fails on is an error naming the format", () => {
    expect(() => renderTable("table {{.ID.X}}", HEADERS, rows)).toThrow(
      'Cannot execute template "table {{.ID.X}}": template: :1:2: executing "" at <.ID.X>: can\'t evaluate field X in type interface {}',
    );
  });

  test("isTableFormat", () => {
    expect([isTableFormat("table"), isTableFormat("table {{.ID}}"), isTableFormat("{{.ID}}"), isTableFormat("json")]).toEqual([true, true, false, false]);
  });
});
