/**
 * `--registry-mirror SOURCE:TARGET[,…]` for ECR: an image on SOURCE (an ECR pull-through cache in
 * front of Docker Hub, a containerd mirror, a registry proxy) gets the credentials of the ECR
 * registry TARGET. The parsing and its rules are core's `parseRegistryMirrors`.
 */
import {
  type RegistryMirrors as Mirrors,
  parseRegistryMirrors as parseMirrors,
} from "@kubelet-credential-provider/core";
import type { EcrHost } from "./hosts.ts";
import { parseEcrHost } from "./hosts.ts";

/** Registry host → the ECR registry whose credentials it gets. */
export type RegistryMirrors = Mirrors<EcrHost>;

/**
 * Parses the flag's values. Empty input gives an empty map.
 *
 * @throws CredentialProviderError `USAGE`, naming the entry and what is wrong with it.
 */
export function parseRegistryMirrors(entries: readonly string[]): RegistryMirrors {
  return parseMirrors(entries, {
    parseTarget: parseEcrHost,
    targetKind: "an Amazon ECR registry host",
    example: "mirror.example.com:123456789012.dkr.ecr.us-west-2.amazonaws.com",
  });
}

/** The ECR registry a registry host is a mirror of, if any. */
export function lookupMirror(mirrors: RegistryMirrors, host: string): EcrHost | undefined {
  return mirrors.get(host.toLowerCase());
}
