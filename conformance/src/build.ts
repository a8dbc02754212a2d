/**
 * Builds the conformance tier's Go programs (the kubelet harness of every minor, the audience
 * checker, the upstream plugins) before the test command's tests start: on a cold Go cache this
 * takes the machine's cores for many minutes, which must not land on the timing-sensitive suites
 * running beside the conformance tests. With a warm cache each is a link. Without Go: a notice (an error with CI=true).
 */
import {
  audienceChecker,
  goAvailable,
  KUBELET_MINORS,
  kubeletHarness,
  UPSTREAM_PLUGINS,
  type UpstreamPlugin,
  upstreamPlugin,
} from "./go.ts";

if (goAvailable()) {
  const started = Date.now();
  for (const minor of KUBELET_MINORS) await kubeletHarness(minor);
  await audienceChecker();
  for (const plugin of Object.keys(UPSTREAM_PLUGINS) as UpstreamPlugin[]) await upstreamPlugin(plugin);
  const count = KUBELET_MINORS.length + 1 + Object.keys(UPSTREAM_PLUGINS).length;
  console.log(`conformance: ${count} Go programs built in ${Math.round((Date.now() - started) / 1000)} s`);
}
