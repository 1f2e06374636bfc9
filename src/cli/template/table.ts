// Docker's `--format "table ..."`: a header row made by running the same template over the
// command's column names (with Docker's HeaderFunctions), then one row per item, aligned by Go's
// text/tabwriter as docker/cli's formatter sets it up: NewWriter(out, 10, 1, 3, ' ', 0).

export interface TabOptions {
  minwidth: number;
  padding: number;
}

export const DOCKER_TABS: TabOptions = { minwidth: 10, padding: 3 };

/** Code points, as Go counts runes. */
const width = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};
/** A text without surrogates has as many code points as UTF-16 units in every cell: one scan of
 * the whole text instead of a for-of over each cell's characters (most of a 100-row `ps`). */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Go's tabwriter with left alignment and space padding: a column is a run of consecutive lines
 * that have a tab-terminated cell at that index; its width is the widest such cell plus the
 * padding, at least minwidth. The last cell of a line is not part of any column. (Go recurses
 * column by column; here each column's runs are found by one scan, so no line length can overflow
 * the stack.) Plain indexed loops: a listing's first and only run is interpreted, and closures
 * over holey arrays cost several times as much per cell.
 */
export function tabwrite(text: string, o: TabOptions = DOCKER_TABS): string {
  const lines = text.split("\n");
  const n = lines.length;
  const cells: string[][] = [];
  const widths: number[][] = [];
  let maxCols = 0;
  const wide = SURROGATE.test(text);
  for (let i = 0; i < n; i++) {
    const c = lines[i]!.split("\t");
    const w: number[] = [];
    for (let j = 0; j < c.length; j++) w.push(wide ? width(c[j]!) : c[j]!.length);
    cells.push(c);
    widths.push(w);
    if (c.length - 1 > maxCols) maxCols = c.length - 1;
  }
  // padded[i][j]: the width cell j of line i is padded to (its column run's).
  const padded: number[][] = widths.map((w) => w.slice());
  for (let j = 0; j < maxCols; j++) {
    let i = 0;
    while (i < n) {
      if (cells[i]!.length - 1 <= j) {
        i++;
        continue;
      }
      let end = i;
      let max = o.minwidth;
      for (; end < n && cells[end]!.length - 1 > j; end++) if (widths[end]![j]! + o.padding > max) max = widths[end]![j]! + o.padding;
      for (; i < end; i++) padded[i]![j] = max;
    }
  }
  let out = "";
  for (let i = 0; i < n; i++) {
    if (i > 0) out += "\n";
    const c = cells[i]!;
    const last = c.length - 1;
    for (let j = 0; j < last; j++) out += c[j]! + " ".repeat(padded[i]![j]! - widths[i]![j]!);
    out += c[last]!;
  }
  return out;
}
