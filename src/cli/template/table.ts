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

/** Go's tabwriter over text: lines of tab-separated cells (see alignCells). */
export function tabwrite(text: string, o: TabOptions = DOCKER_TABS): string {
  const lines = text.split("\n");
  const cells: string[][] = [];
  for (let i = 0; i < lines.length; i++) cells.push(lines[i]!.split("\t"));
  return alignCells(cells, o, SURROGATE.test(text));
}

/**
 * Go's tabwriter with left alignment and space padding, over lines already cut into cells (joined
 * with "\n", no trailing one): a column is a run of consecutive lines that have a cell after the one
 * at that index; its width is the widest such cell plus the padding, at least minwidth. The last
 * cell of a line is not part of any column. (Go recurses column by column; here each column's runs
 * are found by one scan, so no line length can overflow the stack.) `wide`: whether some cell has
 * surrogates, so that widths count code points; unknown, the text is laid out by UTF-16 units
 * first and again only when the result has any. Plain indexed loops: a listing's first and only
 * run is interpreted, and closures over holey arrays cost several times as much per cell.
 */
export function alignCells(cells: readonly (readonly string[])[], o: TabOptions = DOCKER_TABS, wide?: boolean): string {
  const out = layout(cells, o, wide === true);
  return wide === undefined && SURROGATE.test(out) ? layout(cells, o, true) : out;
}

function layout(cells: readonly (readonly string[])[], o: TabOptions, wide: boolean): string {
  const n = cells.length;
  if (!wide && n > 0) {
    // Every line but the last with as many cells (a listing, and the empty text after its last
    // newline): each column is one run over all of them, and each cell is padded by padEnd.
    const cols = cells[0]!.length - 1;
    let uniform = true;
    for (let i = 1; i < n - 1 && uniform; i++) uniform = cells[i]!.length - 1 === cols;
    if (uniform && cells[n - 1]!.length - 1 <= cols) return uniformLayout(cells, o, cols);
  }
  // pad[i][j]: first the width of cell j of line i, then the spaces that follow it.
  const pad: number[][] = [];
  let maxCols = 0;
  for (let i = 0; i < n; i++) {
    const c = cells[i]!;
    const w: number[] = [];
    for (let j = 0; j < c.length; j++) w.push(wide ? width(c[j]!) : c[j]!.length);
    pad.push(w);
    if (c.length - 1 > maxCols) maxCols = c.length - 1;
  }
  for (let j = 0; j < maxCols; j++) {
    let i = 0;
    while (i < n) {
      if (cells[i]!.length - 1 <= j) {
        i++;
        continue;
      }
      let end = i;
      let max = o.minwidth;
      for (; end < n && cells[end]!.length - 1 > j; end++) if (pad[end]![j]! + o.padding > max) max = pad[end]![j]! + o.padding;
      for (; i < end; i++) pad[i]![j] = max - pad[i]![j]!;
    }
  }
  let out = "";
  for (let i = 0; i < n; i++) {
    if (i > 0) out += "\n";
    const c = cells[i]!;
    const p = pad[i]!;
    const last = c.length - 1;
    for (let j = 0; j < last; j++) out += c[j]! + " ".repeat(p[j]!);
    out += c[last]!;
  }
  return out;
}

/** layout of lines that all have `cols` column cells, but the last, which may have fewer; widths in UTF-16 units. */
function uniformLayout(cells: readonly (readonly string[])[], o: TabOptions, cols: number): string {
  const n = cells.length;
  const lastCols = cells[n - 1]!.length - 1;
  const widths: number[] = [];
  for (let j = 0; j < cols; j++) {
    let max = o.minwidth;
    // The last line is in column j's run when it has a cell after j.
    const end = lastCols > j ? n : n - 1;
    for (let i = 0; i < end; i++) {
      const w = cells[i]![j]!.length + o.padding;
      if (w > max) max = w;
    }
    widths.push(max);
  }
  let out = "";
  for (let i = 0; i < n; i++) {
    if (i > 0) out += "\n";
    const c = cells[i]!;
    const last = c.length - 1;
    for (let j = 0; j < last; j++) out += c[j]!.padEnd(widths[j]!);
    out += c[last]!;
  }
  return out;
}
