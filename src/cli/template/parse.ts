// The parser of Go's text/template (src/text/template/parse/parse.go): tokens to a tree, with
// Go's checks and messages (undefined functions and variables, {{break}} outside {{range}},
// "unexpected EOF"). define/block add named templates beside the main one.
import type { Arg, Cmd, Node, Pipe } from "./ast.ts";
import { lex, TemplateSyntaxError, type Tok } from "./lex.ts";
import { unquote } from "./quote.ts";

export interface Tree {
  root: Node[];
  /** Named templates from {{define}} and {{block}}. */
  defs: Map<string, Node[]>;
}

/** Nesting deeper than this is refused rather than overflowing the stack. */
const MAX_DEPTH = 1000;

type End = { k: "end" | "else"; pos: number; elseKeyword?: string };

export function parseTemplate(input: string, hasFunc: (name: string) => boolean): Tree {
  const toks = lex(input);
  const defs = new Map<string, Node[]>();
  let i = 0;
  let vars: string[] = ["$"];
  let rangeDepth = 0;
  let depth = 0;

  const lineOf = (pos: number) => 1 + (input.slice(0, pos).match(/\n/g)?.length ?? 0);
  const fail = (msg: string, pos: number): never => {
    throw new TemplateSyntaxError(msg, lineOf(pos));
  };
  const next = (): Tok => toks[Math.min(i++, toks.length - 1)]!;
  const peek = (): Tok => toks[Math.min(i, toks.length - 1)]!;
  const nextNonSpace = (): Tok => {
    let t = next();
    while (t.kind === "space") t = next();
    return t;
  };
  const peekNonSpace = (): Tok => {
    const save = i;
    const t = nextNonSpace();
    i = save;
    return t;
  };
  const tokString = (t: Tok): string => {
    if (t.kind === "eof") return "EOF";
    if (t.kind === "kw") return `<${t.val}>`;
    if (t.kind === "{{" || t.kind === "}}") return `<${t.val}>`;
    const q = JSON.stringify(t.val);
    return [...t.val].length > 10 ? `${JSON.stringify([...t.val].slice(0, 10).join(""))}...` : q;
  };
  const unexpected = (t: Tok, context: string): never => fail(`unexpected ${tokString(t)} in ${context}`, t.pos);
  const expect = (kind: Tok["kind"], context: string): Tok => {
    const t = nextNonSpace();
    if (t.kind !== kind) unexpected(t, context);
    return t;
  };
  // Go's Tree.add: within one parse a name may be defined once (an empty body does not count).
  const define = (name: string, list: Node[], pos: number) => {
    const empty = (l: Node[]) => l.every((n) => n.k === "text" && n.text.trim() === "");
    const old = defs.get(name);
    if (old && !empty(old) && !empty(list)) fail(`template: multiple definition of template ${JSON.stringify(name)}`, pos);
    if (!old || empty(old)) defs.set(name, list);
  };
  const enter = (pos: number) => {
    if (++depth > MAX_DEPTH) fail("max expression depth exceeded", pos);
  };

  function parse(): Node[] {
    const root: Node[] = [];
    while (peek().kind !== "eof") {
      if (peek().kind === "{{") {
        const save = i;
        next();
        const t = nextNonSpace();
        if (t.kind === "kw" && t.val === "define") {
          parseDefinition();
          continue;
        }
        i = save;
      }
      const n = textOrAction();
      if ("k" in n && (n.k === "end" || n.k === "else")) fail(`unexpected {{${n.k}}}`, n.pos);
      root.push(n as Node);
    }
    return root;
  }

  function parseDefinition(): void {
    const t = nextNonSpace();
    if (t.kind !== "str" && t.kind !== "raw") unexpected(t, "define clause");
    const name = unquote(t.val) ?? fail("invalid syntax", t.pos);
    expect("}}", "define clause");
    const saved = vars;
    vars = ["$"];
    const [list, end] = itemList();
    vars = saved;
    if (end.k !== "end") fail(`unexpected {{${end.k}}} in define clause`, end.pos);
    define(name, list, t.pos);
  }

  function itemList(): [Node[], End] {
    const list: Node[] = [];
    for (;;) {
      if (peekNonSpace().kind === "eof") fail("unexpected EOF", input.length);
      const n = textOrAction();
      if (n.k === "end" || n.k === "else") return [list, n as End];
      list.push(n as Node);
    }
  }

  function textOrAction(): Node | End {
    const t = nextNonSpace();
    if (t.kind === "text") return { k: "text", text: t.val };
    if (t.kind === "{{") {
      enter(t.pos);
      try {
        return action();
      } finally {
        depth--;
      }
    }
    return unexpected(t, "input");
  }

  function action(): Node | End {
    const t = nextNonSpace();
    if (t.kind === "kw") {
      switch (t.val) {
        case "block":
          return blockControl();
        case "break":
        case "continue": {
          const close = nextNonSpace();
          if (close.kind !== "}}") unexpected(close, `{{${t.val}}}`);
          if (rangeDepth === 0) fail(`{{${t.val}}} outside {{range}}`, t.pos);
          return { k: t.val, pos: t.pos };
        }
        case "else": {
          const p = peekNonSpace();
          if (p.kind === "kw" && (p.val === "if" || p.val === "with")) return { k: "else", pos: p.pos, elseKeyword: p.val };
          expect("}}", "else");
          return { k: "else", pos: t.pos };
        }
        case "end":
          expect("}}", "end");
          return { k: "end", pos: t.pos };
        case "if":
        case "range":
        case "with":
          return control(t.val);
        case "template":
          return templateControl();
      }
    }
    i--;
    const pos = peekNonSpace().pos;
    return { k: "action", pos, pipe: pipeline("command", "}}") };
  }

  function control(context: "if" | "range" | "with"): Node {
    const mark = vars.length;
    try {
      const pipe = pipeline(context, "}}");
      if (context === "range") rangeDepth++;
      const [list, end] = itemList();
      if (context === "range") rangeDepth--;
      let alt: Node[] | undefined;
      if (end.k === "else") {
        if (end.elseKeyword && end.elseKeyword === context) {
          nextNonSpace();
          alt = [control(context)];
        } else {
          const [elseList, end2] = itemList();
          if (end2.k !== "end") fail(`expected end; found {{${end2.k}}}`, end2.pos);
          alt = elseList;
        }
      }
      return { k: context, pos: pipe.pos, pipe, list, ...(alt ? { else: alt } : {}) };
    } finally {
      vars.length = mark;
    }
  }

  function templateName(context: string): string {
    const t = nextNonSpace();
    if (t.kind !== "str" && t.kind !== "raw") unexpected(t, context);
    return unquote(t.val) ?? fail("invalid syntax", t.pos);
  }

  function templateControl(): Node {
    const pos = peekNonSpace().pos;
    const name = templateName("template clause");
    if (nextNonSpace().kind === "}}") return { k: "template", pos, name };
    i--;
    return { k: "template", pos, name, pipe: pipeline("template clause", "}}") };
  }

  function blockControl(): Node {
    const pos = peekNonSpace().pos;
    const name = templateName("block clause");
    const pipe = pipeline("block clause", "}}");
    const saved = vars;
    vars = ["$"];
    const [list, end] = itemList();
    vars = saved;
    if (end.k !== "end") fail(`unexpected {{${end.k}}} in block clause`, end.pos);
    define(name, list, pos);
    return { k: "template", pos, name, pipe };
  }

  function pipeline(context: string, end: "}}" | ")"): Pipe {
    const pipe: Pipe = { pos: peekNonSpace().pos, decl: [], isAssign: false, cmds: [] };
    for (;;) {
      const v = peekNonSpace();
      if (v.kind !== "var") break;
      const save = i;
      nextNonSpace();
      const after = peekNonSpace();
      if (after.kind === ":=" || after.kind === "=") {
        nextNonSpace();
        pipe.isAssign = after.kind === "=";
        pipe.decl.push(v.val);
        vars.push(v.val);
        break;
      }
      if (after.kind === "punct" && after.val === ",") {
        nextNonSpace();
        pipe.decl.push(v.val);
        vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const k = peekNonSpace().kind;
          if (k === "var" || k === "}}" || k === ")") continue;
          fail("range can only initialize variables", v.pos);
        }
        fail(`too many declarations in ${context}`, v.pos);
      }
      i = save;
      break;
    }
    for (;;) {
      const t = nextNonSpace();
      if (t.kind === end) {
        if (pipe.cmds.length === 0) fail(`missing value for ${context}`, t.pos);
        pipe.cmds.slice(1).forEach((c, n) => {
          if (["bool", "dot", "nil", "num", "str"].includes(c.args[0]!.k)) fail(`non executable command in pipeline stage ${n + 2}`, c.pos);
        });
        return pipe;
      }
      if (["bool", "char", "dot", "field", "ident", "num", "nil", "raw", "str", "var", "("].includes(t.kind)) {
        i--;
        pipe.cmds.push(command());
      } else unexpected(t, context);
    }
  }

  function command(): Cmd {
    const cmd: Cmd = { pos: peekNonSpace().pos, args: [] };
    for (;;) {
      const a = operand();
      if (a) cmd.args.push(a);
      const t = next();
      if (t.kind === "space") continue;
      if (t.kind === "}}" || t.kind === ")") i--;
      else if (t.kind !== "|") unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) fail("empty command", cmd.pos);
    return cmd;
  }

  function operand(): Arg | undefined {
    const node = term();
    if (!node || peek().kind !== "field") return node;
    const fields: string[] = [];
    const pos = peek().pos;
    while (peek().kind === "field") fields.push(next().val.slice(1));
    if (node.k === "field" || node.k === "var") return { ...node, idents: [...node.idents, ...fields] };
    if (["bool", "str", "num", "nil", "dot"].includes(node.k)) {
      const s = node.k === "str" ? node.quoted : node.k === "num" ? node.text : node.k === "bool" ? String(node.v) : node.k === "nil" ? "nil" : ".";
      fail(`unexpected . after term ${JSON.stringify(s)}`, pos);
    }
    return { k: "chain", pos, node, fields };
  }

  function term(): Arg | undefined {
    const t = nextNonSpace();
    switch (t.kind) {
      case "ident":
        if (!hasFunc(t.val)) fail(`function ${JSON.stringify(t.val)} not defined`, t.pos);
        return { k: "ident", pos: t.pos, name: t.val };
      case "dot":
        return { k: "dot", pos: t.pos };
      case "nil":
        return { k: "nil", pos: t.pos };
      case "var": {
        const name = t.val;
        if (!vars.includes(name)) fail(`undefined variable ${JSON.stringify(name)}`, t.pos);
        return { k: "var", pos: t.pos, idents: [name] };
      }
      case "field":
        return { k: "field", pos: t.pos, idents: [t.val.slice(1)] };
      case "bool":
        return { k: "bool", pos: t.pos, v: t.val === "true" };
      case "num":
      case "char":
        return { k: "num", pos: t.pos, v: parseNumber(t), text: t.val };
      case "(": {
        enter(t.pos);
        try {
          return { k: "pipe", pos: t.pos, pipe: pipeline("parenthesized pipeline", ")") };
        } finally {
          depth--;
        }
      }
      case "str":
      case "raw":
        return { k: "str", pos: t.pos, v: unquote(t.val) ?? fail("invalid syntax", t.pos), quoted: t.val };
    }
    i--;
    return undefined;
  }

  function parseNumber(t: Tok): number {
    if (t.kind === "char") {
      const s = unquote(t.val);
      if (s === undefined || [...s].length !== 1) fail(`malformed character constant: ${t.val}`, t.pos);
      return s!.codePointAt(0)!;
    }
    const text = t.val.replace(/_/g, "");
    const sign = text.startsWith("-") ? -1 : 1;
    const body = text.replace(/^[+-]/, "");
    let v = NaN;
    if (/^0[xX][0-9a-fA-F]+$/.test(body)) v = parseInt(body.slice(2), 16);
    else if (/^0[oO]?[0-7]+$/.test(body)) v = parseInt(body.replace(/^0[oO]?/, ""), 8);
    else if (/^0[bB][01]+$/.test(body)) v = parseInt(body.slice(2), 2);
    else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) v = Number(body);
    if (!Number.isFinite(v)) fail(`illegal number syntax: ${JSON.stringify(t.val)}`, t.pos);
    return sign * v;
  }

  const root = parse();
  return { root, defs };
}
