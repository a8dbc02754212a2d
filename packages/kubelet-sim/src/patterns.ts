/**
 * What the kubelet does not say about `matchImages`: patterns it accepts that can never match a
 * real image (a path glob, an empty label, a scheme), that do not do what they seem to (`**`,
 * `*.amazonaws.com` for ECR), and providers whose patterns overlap. The kubelet matches a pattern
 * as `URLsMatch` does (core's urlsMatch): the same port, the same number of DNS labels, each label
 * a `filepath.Match` glob, the path a plain string prefix.
 */
import { parseSchemelessUrl, type SchemelessUrl, urlsMatch } from "@kubelet-credential-provider/core";

/** A pattern the kubelet accepts but that will not match as its author meant. */
export interface PatternWarning {
  /** `providers[0].matchImages[1]` */
  path: string;
  pattern: string;
  message: string;
  /** What to do, in a few words (doctor's fix). */
  fix: string;
}

const _GLOB = /[*?[\\]/;
const _SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]`: the labels of an ECR registry host. */
const _ECR_SUFFIX = /(^|\.)amazonaws\.com(\.cn)?$/;

export function patternWarnings(
  providers: ReadonlyArray<{ name: string; matchImages: readonly string[] }>,
): PatternWarning[] {
  const warnings: PatternWarning[] = [];
  const parsed = providers.map((provider) => provider.matchImages.map(_parse));
  providers.forEach((provider, i) => {
    provider.matchImages.forEach((pattern, j) => {
      const found = _cannotMatch(pattern, parsed[i]?.[j]);
      if (found) warnings.push({ path: `providers[${i}].matchImages[${j}]`, pattern, ...found });
    });
  });
  providers.forEach((provider, k) => {
    provider.matchImages.forEach((pattern, n) => {
      const mine = parsed[k]?.[n];
      if (!mine) return;
      for (let i = 0; i < k; i++) {
        const other = providers[i] as (typeof providers)[number];
        const m = other.matchImages.findIndex((_pattern, index) => {
          const parsedTheirs = parsed[i]?.[index];
          return parsedTheirs !== undefined && _overlap(mine, parsedTheirs);
        });
        if (m === -1) continue;
        warnings.push({
          path: `providers[${k}].matchImages[${n}]`,
          pattern,
          message:
            `overlaps providers[${i}].matchImages[${m}] (${JSON.stringify(other.matchImages[m])} of ${JSON.stringify(other.name)}): ` +
            "for an image both match, the kubelet runs both providers and tries the credentials of each",
          fix: "keep each registry in one provider's matchImages",
        });
        break; // the first overlap says enough
      }
    });
  });
  return warnings;
}

/**
 * Why `pattern` does not match `image`, as the kubelet compares them: the first difference found
 * (port, label count, a label, the path prefix), or undefined when it matches.
 */
export function whyNoMatch(pattern: string, image: string): string | undefined {
  if (urlsMatch(pattern, image)) return undefined;
  const glob = _parse(pattern);
  const target = _parse(image);
  if (!glob) return "the kubelet cannot parse this pattern";
  if (!target) return "the kubelet cannot parse the image";
  if (glob.port !== target.port) {
    return glob.port === ""
      ? `the image names port ${target.port}; the pattern has no port`
      : `the pattern's port is ${glob.port}; the image ${target.port === "" ? "names none" : `names ${target.port}`}`;
  }
  const globLabels = glob.hostname.split(".");
  const hostLabels = target.hostname.split(".");
  if (globLabels.length !== hostLabels.length) {
    const stars = globLabels.some((label) => label.includes("*")) ? ` ("*" matches within one label)` : "";
    return `${globLabels.length} DNS ${globLabels.length === 1 ? "label" : "labels"}; the image's host ${target.hostname} has ${hostLabels.length}${stars}`;
  }
  const index = globLabels.findIndex((label, i) => !urlsMatch(label, hostLabels[i] ?? ""));
  if (index !== -1) {
    return `label ${index + 1}, ${JSON.stringify(globLabels[index])}, does not match ${JSON.stringify(hostLabels[index])}`;
  }
  return `the path ${JSON.stringify(target.path)} does not start with ${JSON.stringify(glob.path)}`;
}

function _parse(pattern: string): SchemelessUrl | undefined {
  try {
    return parseSchemelessUrl(pattern);
  } catch {
    return undefined;
  }
}

const _CORRECT = "correct or remove the pattern";

function _cannotMatch(
  pattern: string,
  url: SchemelessUrl | undefined,
): { message: string; fix: string } | undefined {
  if (pattern === "") return { message: "an empty pattern matches no image", fix: _CORRECT };
  if (_SCHEME.test(pattern)) {
    return {
      message: "starts with a scheme, which no image has: this matches no image (write the host alone)",
      fix: _CORRECT,
    };
  }
  if (!url) return undefined; // the kubelet's validation says why
  if (url.hostname.split(".").some((label) => label === "")) {
    return {
      message: `the host ${JSON.stringify(url.hostname)} has an empty DNS label, which no image's registry has: this matches no image`,
      fix: _CORRECT,
    };
  }
  const glob = _GLOB.exec(url.path);
  if (glob) {
    const prefix = JSON.stringify(`${url.host}${url.path.slice(0, glob.index)}`);
    return {
      message:
        `the path ${JSON.stringify(url.path)} is compared as a plain prefix, not a glob: it matches only images whose path ` +
        `has a literal ${JSON.stringify(glob[0])}, and no repository does (for the repositories under it, write ${prefix})`,
      fix: `write ${prefix}`,
    };
  }
  const labels = url.hostname.split(".");
  if (labels.some((label) => label.includes("**"))) {
    return {
      message: `"**" is "*": a "*" matches within one DNS label, never across dots (write one pattern per number of labels: *.example.com, *.*.example.com)`,
      fix: _CORRECT,
    };
  }
  const cn = url.hostname.endsWith(".cn") ? ".cn" : "";
  if (
    _ECR_SUFFIX.test(url.hostname) &&
    labels.some((label) => label.includes("*")) &&
    labels.length < (cn ? 7 : 6)
  ) {
    const ecr = JSON.stringify(`*.dkr.ecr.*.amazonaws.com${cn}`);
    return {
      message: `"*" matches one DNS label: this does not match an Amazon ECR registry (<account>.dkr.ecr.<region>.amazonaws.com${cn}); write ${ecr}`,
      fix: `write ${ecr}`,
    };
  }
  return undefined;
}

/**
 * An image the pattern matches, for a pattern whose host has no wildcard
 * (`registry.example.com/team/` gives `registry.example.com/team/doctor-check`); undefined for
 * one that has, or that the kubelet cannot parse: no image of a real registry can be made up.
 */
export function exampleImage(pattern: string): string | undefined {
  const url = _parse(pattern);
  if (url === undefined || _GLOB.test(url.host) || url.hostname === "") return undefined;
  const path = url.path === "" ? "/" : url.path.endsWith("/") ? url.path : `${url.path}/`;
  return `${url.host}${path}doctor-check`;
}

/** A warning as validate and doctor print it: `FILE: PATH: "PATTERN": WHY`, FILE when known. */
export function formatPatternWarning(warning: PatternWarning, file?: string): string {
  return `${file === undefined ? "" : `${file}: `}${warning.path}: ${JSON.stringify(warning.pattern)}: ${warning.message}`;
}

/** Whether some image could match both patterns (two globs in one label are assumed to overlap). */
function _overlap(a: SchemelessUrl, b: SchemelessUrl): boolean {
  if (a.port !== b.port) return false;
  if (!a.path.startsWith(b.path) && !b.path.startsWith(a.path)) return false;
  const aLabels = a.hostname.split(".");
  const bLabels = b.hostname.split(".");
  if (aLabels.length !== bLabels.length) return false;
  return aLabels.every((label, i) => {
    const other = bLabels[i] ?? "";
    const aGlob = _GLOB.test(label);
    const bGlob = _GLOB.test(other);
    if (aGlob && bGlob) return true;
    if (aGlob) return urlsMatch(label, other);
    if (bGlob) return urlsMatch(other, label);
    return label === other;
  });
}
