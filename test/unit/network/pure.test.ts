// Subnets, --network modes, the NAT batch, hosts/resolv.conf rendering, config keys.
import { describe, expect, test } from "bun:test";
import { parseEngineConfig } from "../../../src/context.ts";
import { containerResolvConf, hostsFile, parseExtraHost } from "../../../src/network/dns.ts";
import { masqueradeRules, nftMasqueradeText, parseChainState } from "../../../src/network/masquerade.ts";
import { parseNetworkMode } from "../../../src/network/mode.ts";
import { carve, formatSubnet, hostRange, overlaps, parseCidr, formatIpv4 } from "../../../src/network/subnet.ts";

describe("subnet", () => {
  test.each([
    ["10.29.0.1/16", "10.29.0.0/16"],
    ["192.168.5.7/24", "192.168.5.0/24"],
    ["172.16.0.0/12", "172.16.0.0/12"],
  ])("%s is in %s", (text, net) => expect(formatSubnet(parseCidr(text).subnet)).toBe(net));
  test.each(["10.0.0.0", "10.0.0.256/24", "10.0.0.0/31", "10.0.0.0/4", "x/24", "10.0.0/24"])("%s is refused", (text) =>
    expect(() => parseCidr(text)).toThrow(`Cannot parse subnet "${text}"`),
  );
  test("ranges, overlaps, pools", () => {
    const s = parseCidr("10.30.0.0/24").subnet;
    const r = hostRange(s);
    expect([formatIpv4(r.first), formatIpv4(r.last)]).toEqual(["10.30.0.1", "10.30.0.254"]);
    expect(overlaps(s, parseCidr("10.30.0.128/25").subnet)).toBe(true);
    expect(overlaps(s, parseCidr("10.30.1.0/24").subnet)).toBe(false);
    expect([...carve(parseCidr("10.30.0.0/16").subnet, 24)].slice(0, 2).map(formatSubnet)).toEqual(["10.30.0.0/24", "10.30.1.0/24"]);
  });
});

describe("--network", () => {
  test.each([
    [undefined, { kind: "network", name: "bridge" }],
    ["default", { kind: "network", name: "bridge" }],
    ["none", { kind: "none" }],
    ["host", { kind: "host" }],
    ["container:web", { kind: "container", ref: "web" }],
    ["appnet", { kind: "network", name: "appnet" }],
  ])("%s", (text, mode) => expect(parseNetworkMode(text)).toEqual(mode as never));
  test.each(["container:", "bad name"])("%s is refused", (text) => expect(() => parseNetworkMode(text)).toThrow("Cannot parse network mode"));
});

describe("NAT batch", () => {
  const none = parseChainState("");
  test("first bridge: chains, jumps, rules in one batch", () => {
    expect(masqueradeRules([{ subnet: "10.29.0.1/16", bridge: "tinydock0" }], none)).toBe(
      [
        "*nat",
        ":TINYDOCK-MASQUERADE - [0:0]",
        "-A POSTROUTING -j TINYDOCK-MASQUERADE",
        "-A TINYDOCK-MASQUERADE -s 10.29.0.0/16 ! -o tinydock0 -j MASQUERADE",
        "COMMIT",
        "*filter",
        ":TINYDOCK-BRIDGES - [0:0]",
        "-I FORWARD -j TINYDOCK-BRIDGES",
        "-A TINYDOCK-BRIDGES -i tinydock0 -j ACCEPT",
        "-A TINYDOCK-BRIDGES -o tinydock0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "COMMIT",
        "",
      ].join("\n"),
    );
  });
  const live = parseChainState(
    "*filter\n:FORWARD ACCEPT [0:0]\n:TINYDOCK-BRIDGES - [0:0]\n-A FORWARD -j TINYDOCK-BRIDGES\nCOMMIT\n*nat\n:TINYDOCK-MASQUERADE - [0:0]\n-A POSTROUTING -j TINYDOCK-MASQUERADE\nCOMMIT\n",
  );
  test("jumps already there are not added twice", () => {
    expect(live).toEqual({ natChain: true, natJump: true, forwardChain: true, forwardJump: true });
    expect(masqueradeRules([{ subnet: "10.29.0.0/16", bridge: "tinydock0" }], live)).not.toContain("-j TINYDOCK-MASQUERADE\n-A TINYDOCK");
  });
  test("last bridge gone: jumps and chains removed; nothing there: nothing to do", () => {
    expect(masqueradeRules([], live)).toBe(
      "*nat\n-D POSTROUTING -j TINYDOCK-MASQUERADE\n:TINYDOCK-MASQUERADE - [0:0]\n-X TINYDOCK-MASQUERADE\nCOMMIT\n*filter\n-D FORWARD -j TINYDOCK-BRIDGES\n:TINYDOCK-BRIDGES - [0:0]\n-X TINYDOCK-BRIDGES\nCOMMIT\n",
    );
    expect(masqueradeRules([], none)).toBe("");
  });
});

describe("nft fallback", () => {
  test("one table of our own, replaced whole; nothing left without bridges", () => {
    const text = nftMasqueradeText([{ subnet: "10.29.0.1/16", bridge: "tinydock0" }]);
    expect(text.split("\n").slice(0, 2)).toEqual(["table ip tinydock-bridges", "delete table ip tinydock-bridges"]);
    expect(text).toContain('\t\tip saddr 10.29.0.0/16 oifname != "tinydock0" masquerade\n');
    expect(nftMasqueradeText([])).toBe("table ip tinydock-bridges\ndelete table ip tinydock-bridges\n");
  });
});

describe("hosts and resolv.conf", () => {
  test("own address, --add-host, peers by name, alias and short id", () => {
    const text = hostsFile("web", {
      ip: "10.30.0.2",
      aliases: ["web", "www"],
      extraHosts: [{ host: "db.local", ip: "10.0.0.5" }],
      peers: [{ ip: "10.30.0.3", names: ["api", "api", "0123456789ab"] }],
    });
    expect(text.split("\n").slice(6)).toEqual(["10.0.0.5\tdb.local", "10.30.0.2\tweb www", "10.30.0.3\tapi 0123456789ab", ""]);
  });
  test.each([
    ["db:10.0.0.5", { host: "db", ip: "10.0.0.5" }],
    ["db=10.0.0.5", { host: "db", ip: "10.0.0.5" }],
    ["v6:[::1]", { host: "v6", ip: "::1" }],
    ["gw:host-gateway", { host: "gw", ip: "10.29.0.1" }],
  ])("--add-host %s", (text, want) => expect(parseExtraHost(text, "10.29.0.1")).toEqual(want));
  test.each(["db", ":10.0.0.1", "db:10.0.0.300", "db:nope"])("--add-host %s is refused", (text) =>
    expect(() => parseExtraHost(text, "10.29.0.1")).toThrow(`Cannot parse --add-host "${text}"`),
  );
  const host = "# comment\nnameserver 127.0.0.53\nnameserver 1.1.1.1\nsearch corp.example\noptions edns0\n";
  test("loopback servers dropped; --dns, --dns-search, --dns-option replace", () => {
    expect(containerResolvConf(host)).toBe("# comment\nnameserver 1.1.1.1\nsearch corp.example\noptions edns0\n");
    expect(containerResolvConf(host, { servers: ["9.9.9.9"], search: ["a.test", "b.test"], options: ["ndots:2"] })).toBe(
      "# comment\nnameserver 9.9.9.9\nsearch a.test b.test\noptions ndots:2\n",
    );
    expect(containerResolvConf("nameserver 127.0.0.53\n", { search: ["."] })).toBe("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  });
});

describe("config", () => {
  test("bip, default-address-pools, mtu", () => {
    const c = parseEngineConfig('{"bip":"192.168.9.1/24","default-address-pools":[{"base":"10.40.0.0/16","size":26}],"mtu":1450}', "t");
    expect([c.bip, c.defaultAddressPools, c.mtu]).toEqual(["192.168.9.1/24", [{ base: "10.40.0.0/16", size: 26 }], 1450]);
    expect(parseEngineConfig("{}", "t").bip).toBe("10.29.0.1/16");
    expect(() => parseEngineConfig('{"default-address-pools":[{"base":1}]}', "t")).toThrow('"default-address-pools" must be');
    expect(() => parseEngineConfig('{"bip":5}', "t")).toThrow('"bip" must be');
  });
});
