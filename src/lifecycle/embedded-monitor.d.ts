// build/monitor (made by `make`), imported `with { type: "file" }`: its path, inside the compiled binary's $bunfs.
declare module "*/build/monitor" {
  const path: string;
  export default path;
}
