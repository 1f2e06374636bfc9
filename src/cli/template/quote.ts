// Go's strconv.Unquote and strconv.Quote, as templates read string literals and %q prints them.

const SIMPLE: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };

/** "..." with Go's escapes, '.' a single character, `...` raw; undefined when invalid. */
export function unquote(q: string): string | undefined {
  const quote = q[0];
  if (q.length < 2 || q[q.length - 1] !== quote) return undefined;
  const body = q.slice(1, -1);
  if (quote === "`") return body.includes("`") ? undefined : body.replace(/\r/g, "");
  if (quote !== '"' && quote !== "'") return undefined;
  let out = "";
  const bytes: number[] = [];
  const flush = () => {
    if (bytes.length) out += new TextDecoder().decode(new Uint8Array(bytes.splice(0)));
  };
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c === quote || c === "\n") return undefined;
    if (c !== "\\") {
      flush();
      const cp = body.codePointAt(i)!;
      out += String.fromCodePoint(cp);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) return undefined;
    if (e in SIMPLE) {
      flush();
      out += SIMPLE[e];
      i += 2;
    } else if (e === quote) {
      flush();
      out += e;
      i += 2;
    } else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return undefined;
      const v = parseInt(hex, 16);
      if (e === "x") bytes.push(v);
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return undefined;
        flush();
        out += String.fromCodePoint(v);
      }
      i += 2 + n;
    } else if (e >= "0" && e <= "7") {
      const oct = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) return undefined;
      bytes.push(parseInt(oct, 8));
      i += 4;
    } else return undefined;
  }
  flush();
  if (quote === "'" && [...out].length !== 1) return undefined;
  return out;
}

const QUOTE_ESC: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\" };

/** strconv.Quote: printable characters as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (QUOTE_ESC[ch]) out += QUOTE_ESC[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (/[\p{C}\p{Z}]/u.test(ch) && ch !== " ") {
      out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}
