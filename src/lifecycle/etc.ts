// The /etc files of a container: rendered by the network stage (src/network/dns.ts), which
// rewrites peers' hosts files as containers come and go.
export * from "../network/dns.ts";
