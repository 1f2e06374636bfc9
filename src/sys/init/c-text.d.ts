// The init's parts (*.c), imported as text by src/sys/init-source.ts (Bun embeds them in the compiled binary).
declare module "*.c" {
  const source: string;
  export default source;
}
