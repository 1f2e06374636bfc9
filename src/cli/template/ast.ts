// The parse tree of a template (Go's text/template/parse/node.go), and each node's text as Go
// prints it in "executing ... at <node>" errors.

export type Arg =
  | { k: "field"; pos: number; idents: string[] }
  | { k: "var"; pos: number; idents: string[] }
  | { k: "chain"; pos: number; node: Arg; fields: string[] }
  | { k: "ident"; pos: number; name: string }
  | { k: "dot"; pos: number }
  | { k: "nil"; pos: number }
  | { k: "bool"; pos: number; v: boolean }
  | { k: "num"; pos: number; v: number; text: string }
  | { k: "str"; pos: number; v: string; quoted: string }
  | { k: "pipe"; pos: number; pipe: Pipe };

export interface Cmd {
  pos: number;
  args: Arg[];
}

export interface Pipe {
  pos: number;
  decl: string[];
  isAssign: boolean;
  cmds: Cmd[];
}

export type Node =
  | { k: "text"; text: string }
  | { k: "action"; pos: number; pipe: Pipe }
  | { k: "if" | "range" | "with"; pos: number; pipe: Pipe; list: Node[]; else?: Node[] }
  | { k: "template"; pos: number; name: string; pipe?: Pipe }
  | { k: "break" | "continue"; pos: number };

export function argString(a: Arg): string {
  switch (a.k) {
    case "field":
      return a.idents.map((i) => `.${i}`).join("");
    case "var":
      return a.idents.join(".");
    case "chain":
      return (a.node.k === "pipe" ? `(${argString(a.node)})` : argString(a.node)) + a.fields.map((f) => `.${f}`).join("");
    case "ident":
      return a.name;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(a.v);
    case "num":
      return a.text;
    case "str":
      return a.quoted;
    case "pipe":
      return pipeString(a.pipe);
  }
}

export function cmdString(c: Cmd): string {
  return c.args.map((a) => (a.k === "pipe" ? `(${argString(a)})` : argString(a))).join(" ");
}

export function pipeString(p: Pipe): string {
  const decl = p.decl.length ? `${p.decl.join(", ")} ${p.isAssign ? "=" : ":="} ` : "";
  return decl + p.cmds.map(cmdString).join(" | ");
}

export function nodeString(n: Node): string {
  switch (n.k) {
    case "text":
      return n.text;
    case "action":
      return `{{${pipeString(n.pipe)}}}`;
    case "if":
    case "range":
    case "with": {
      const list = n.list.map(nodeString).join("");
      const alt = n.else ? `{{else}}${n.else.map(nodeString).join("")}` : "";
      return `{{${n.k} ${pipeString(n.pipe)}}}${list}${alt}{{end}}`;
    }
    case "template":
      return `{{template ${JSON.stringify(n.name)}${n.pipe ? ` ${pipeString(n.pipe)}` : ""}}}`;
    case "break":
    case "continue":
      return `{{${n.k}}}`;
  }
}
