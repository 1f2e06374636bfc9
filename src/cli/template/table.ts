// Docker's `--format "table ..."`: a header row made by running the same template over the
// command's column names (with Docker's HeaderFunctions), then one row per item, aligned by Go's
// text/tabwriter as docker/cli's formatter sets it up: NewWriter(out, 10, 1, 3, ' ', 0).

export interface TabOptions {
  minwidth: number;
  padding: number;
}

export const DOCKER_TABS: TabOptions = { minwidth: 10, padding: 3 };

const width = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/**
 * Go's tabwriter with left alignment and space padding: a column is a run of consecutive lines
 * that have a tab-terminated cell at that index; its width is the widest such cell plus the
 * padding, at least minwidth. The last cell of a line is not part of any column. (Go recurses
 * column by column; the same blocks are found here in one pass, so no line length can overflow
 * the stack.)
 */
export function tabwrite(text: string, o: TabOptions = DOCKER_TABS): string {
  const lines = text.split("\n").map((l) => l.split("\t"));
  const cellWidths: number[][] = lines.map(() => []);
  const open: { start: number; max: number }[] = [];
  const close = (keep: number, end: number) => {
    while (open.length > keep) {
      const j = open.length - 1;
      const run = open.pop()!;
      for (let i = run.start; i < end; i++) cellWidths[i]![j] = run.max;
    }
  };
  lines.forEach((cells, i) => {
    const cols = cells.length - 1;
    close(cols, i);
    for (let j = 0; j < cols; j++) {
      const w = width(cells[j]!) + o.padding;
      if (j < open.length) open[j]!.max = Math.max(open[j]!.max, w);
      else open.push({ start: i, max: Math.max(o.minwidth, w) });
    }
  });
  close(0, lines.length);
  return lines
    .map((cells, i) => cells.map((c, j) => (j < cells.length - 1 ? c + " ".repeat(Math.max(0, cellWidths[i]![j]! - width(c))) : c)).join(""))
    .join("\n");
}
