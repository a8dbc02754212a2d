/**
 * Validation of a config, decoded or built in code. It is apart from decoding because the kubelet
 * checks required fields here, so a missing field reads like its validation error.
 */

import {
  API_VERSION_V1,
  apiVersions,
  parseDurationNanos,
  parseSchemelessUrl,
} from "@kubelet-credential-provider/core";
import { byteSorted as _byteSorted, goQuote as _goQuote } from "@kubelet-credential-provider/core/go";
import { _durationError, _messageOf } from "./_error-text.ts";
import { _qualifiedNameErrors } from "./_qualified-name.ts";
import type { ConfigIssue } from "./issues.ts";
import type {
  CredentialProvider,
  CredentialProviderConfig,
  ServiceAccountTokenAttributes,
} from "./schema.ts";
import { serviceAccountTokenCacheTypes } from "./schema.ts";

/**
 * Validates a config with every rule of the kubelet's `validateCredentialProviderConfig`, in the
 * kubelet's order, collecting all issues. One addition: an empty provider name is reported as
 * Required here, where the kubelet only fails later when it cannot find the plugin binary.
 * The KubeletServiceAccountTokenForCredentialProviders feature gate is taken as enabled.
 */
export function validateConfig(config: CredentialProviderConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.providers.length === 0) {
    issues.push({ path: "providers", type: "Required", message: "at least 1 item in plugins is required" });
  }
  const seenNames = new Set<string>();
  config.providers.forEach((provider, index) => {
    _validateProvider(provider, `providers[${index}]`, seenNames, issues);
  });
  return issues;
}

const _supportedApiVersions: readonly string[] = _byteSorted(apiVersions);

function _validateProvider(
  provider: CredentialProvider,
  path: string,
  seenNames: Set<string>,
  issues: ConfigIssue[],
): void {
  const { name } = provider;
  const namePath = `${path}.name`;
  const invalidName = (message: string) =>
    issues.push({ path: namePath, type: "Invalid", value: name, message });
  if (name === "") issues.push({ path: namePath, type: "Required", message: "name is required" });
  if (name.includes("/")) invalidName("provider name cannot contain '/'");
  if (name.includes(" ")) invalidName("provider name cannot contain spaces");
  if (name === ".") invalidName("provider name cannot be '.'");
  if (name === "..") invalidName("provider name cannot be '..'");
  if (seenNames.has(name)) issues.push({ path: namePath, type: "Duplicate", value: name, message: "" });
  seenNames.add(name);

  const apiVersionPath = `${path}.apiVersion`;
  if (provider.apiVersion === "") {
    issues.push({ path: apiVersionPath, type: "Required", message: "" });
  } else if (!_supportedApiVersions.includes(provider.apiVersion)) {
    issues.push({
      path: apiVersionPath,
      type: "NotSupported",
      value: provider.apiVersion,
      message: _supportedValues(_supportedApiVersions),
    });
  }

  if (provider.matchImages.length === 0) {
    issues.push({
      path: `${path}.matchImages`,
      type: "Required",
      message: "at least 1 item in matchImages is required",
    });
  }
  provider.matchImages.forEach((matchImage, index) => {
    try {
      parseSchemelessUrl(matchImage);
    } catch (error) {
      issues.push({
        path: `${path}.matchImages[${index}]`,
        type: "Invalid",
        value: matchImage,
        message: `match image is invalid: ${_messageOf(error)}`,
      });
    }
  });

  const durationPath = `${path}.defaultCacheDuration`;
  const duration = provider.defaultCacheDuration;
  if (duration === undefined) {
    issues.push({ path: durationPath, type: "Required", message: "" });
  } else {
    // Decoding already rejects bad text; this covers configs built in code.
    const error = _durationError(duration);
    if (error !== undefined) {
      issues.push({ path: durationPath, type: "Invalid", value: duration, message: error });
    } else if (parseDurationNanos(duration) < 0n) {
      issues.push({
        path: durationPath,
        type: "Invalid",
        value: duration,
        message: "defaultCacheDuration must be greater than or equal to 0",
      });
    }
  }

  if (provider.tokenAttributes !== undefined) {
    _validateTokenAttributes(
      provider.tokenAttributes,
      provider.apiVersion,
      `${path}.tokenAttributes`,
      issues,
    );
  }
}

function _validateTokenAttributes(
  attributes: ServiceAccountTokenAttributes,
  providerApiVersion: string,
  path: string,
  issues: ConfigIssue[],
): void {
  if (attributes.serviceAccountTokenAudience === "") {
    issues.push({ path: `${path}.serviceAccountTokenAudience`, type: "Required", message: "" });
  }
  if (attributes.requireServiceAccount === undefined) {
    issues.push({ path: `${path}.requireServiceAccount`, type: "Required", message: "" });
  }
  if (providerApiVersion !== API_VERSION_V1) {
    issues.push({
      path,
      type: "Forbidden",
      message: `tokenAttributes is only supported for ${API_VERSION_V1} API version`,
    });
  }

  const required = attributes.requiredServiceAccountAnnotationKeys ?? [];
  const optional = attributes.optionalServiceAccountAnnotationKeys ?? [];
  const requiredPath = `${path}.requiredServiceAccountAnnotationKeys`;
  if (attributes.requireServiceAccount === false && required.length > 0) {
    issues.push({
      path: requiredPath,
      type: "Forbidden",
      message: "requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
    });
  }
  _validateAnnotationKeys(required, requiredPath, issues);
  _validateAnnotationKeys(optional, `${path}.optionalServiceAccountAnnotationKeys`, issues);

  // Compared as written (case-sensitive), reported once on tokenAttributes with the sorted keys.
  const optionalSet = new Set(optional);
  const both = _byteSorted(new Set(required.filter((key) => optionalSet.has(key))));
  if (both.length > 0) {
    issues.push({
      path,
      type: "Invalid",
      value: both,
      message: "annotation keys cannot be both required and optional",
    });
  }

  const cacheTypePath = `${path}.cacheType`;
  const cacheTypes: readonly string[] = serviceAccountTokenCacheTypes;
  if (attributes.cacheType === "") {
    issues.push({
      path: cacheTypePath,
      type: "Required",
      message: `cacheType is required to be set when tokenAttributes is specified. Supported values are: ${cacheTypes.join(", ")}`,
    });
  } else if (!cacheTypes.includes(attributes.cacheType)) {
    issues.push({
      path: cacheTypePath,
      type: "NotSupported",
      value: attributes.cacheType,
      message: _supportedValues(cacheTypes),
    });
  }
}

function _validateAnnotationKeys(keys: readonly string[], path: string, issues: ConfigIssue[]): void {
  const seen = new Set<string>();
  keys.forEach((key, index) => {
    const keyPath = `${path}[${index}]`;
    // Annotation keys are qualified names except that case does not matter.
    for (const message of _qualifiedNameErrors(key.toLowerCase())) {
      issues.push({ path: keyPath, type: "Invalid", value: key, message });
    }
    if (seen.has(key)) issues.push({ path: keyPath, type: "Duplicate", value: key, message: "" });
    seen.add(key);
  });
}

function _supportedValues(values: readonly string[]): string {
  return `supported values: ${values.map(_goQuote).join(", ")}`;
}
