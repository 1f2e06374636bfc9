// build/monitor (`make` builds it first), embedded in the compiled binary: its path, inside the
// binary's $bunfs. Its own module, loaded on first use, so that what only reads monitor.ts's types
// and parsers (unit tests) needs no build.
import monitorBin from "../../build/monitor" with { type: "file" };

export default monitorBin;
