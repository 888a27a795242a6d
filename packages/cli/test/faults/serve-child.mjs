/* global process */
// A viewer server in its own process (so a crash or a privilege drop cannot touch the test
// runner): serves the runs given as arguments, prints {"port": N} once listening.
import { serve } from "../../dist/serve.js";

const [staticDir, ...runs] = process.argv.slice(2);
const s = await serve({ runs, staticDir, port: 0 });
process.stdout.write(JSON.stringify({ port: s.port, pid: process.pid }) + "\n");
process.on("SIGTERM", () => void s.close().then(() => process.exit(0)));
