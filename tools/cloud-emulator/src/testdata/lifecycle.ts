/**
 * Run as a child process by lifecycle.process.test.ts: starts an emulator, leaves a tunnel open
 * and a request hanging, closes it, and prints what is still alive. The parent checks that the
 * process then exits by itself: nothing the emulator made may keep the event loop going.
 */
import { connect } from "node:net";
import { startEmulator } from "../index.ts";

const emulator = await startEmulator();
const { port } = new URL(emulator.proxyUrl);
const tunnel = connect(Number(port), "127.0.0.1");
tunnel.on("error", () => {});
await new Promise<void>((resolve) => {
  tunnel.once("data", () => resolve());
  tunnel.write("CONNECT registry.example.com:443 HTTP/1.1\r\nhost: registry.example.com:443\r\n\r\n");
});
emulator.fault("registry.v2", { kind: "hang" });
const hung = emulator.request("https://registry.example.com/v2/").then(
  () => "answered",
  (error: NodeJS.ErrnoException) => error.code ?? error.message,
);
while (emulator.calls("registry.v2") === 0) await new Promise((resolve) => setTimeout(resolve, 5));
await emulator.close();
const outcome = await hung;
// Our own client end of the tunnel was closed by the emulator; it is not the emulator's to hold.
await new Promise((resolve) => (tunnel.destroyed ? resolve(undefined) : tunnel.once("close", resolve)));
// fs.promises.rm settles a tick before its last internal callback does; that one is Node's, not ours.
await new Promise((resolve) => setImmediate(resolve));
process.stdout.write(
  JSON.stringify({
    hung: outcome,
    resources: process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap" && r !== "PipeWrap"),
  }),
);
