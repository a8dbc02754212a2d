#!/bin/sh
# A plugin that gets one thing wrong, chosen by $MODE, for the simulator's conformance tests.
# Each run appends a line to $COUNT_FILE when it is set.
set -eu
request=$(cat)
if [ -n "${COUNT_FILE:-}" ]; then printf '%s\n' "$request" >>"$COUNT_FILE"; fi
v1="credentialprovider.kubelet.k8s.io/v1"
ok_auth='{"registry.example":{"username":"user","password":"pw"}}'

case "${MODE:-}" in
  extra-field)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Registry","auth":{"registry.example":{"username":"user","password":"pw","email":"a@b.c"}}}\n' "$v1" ;;
  extra-top-level-field)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Registry","expiresAt":"soon","auth":%s}\n' "$v1" "$ok_auth" ;;
  duplicate-field)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Registry","cacheKeyType":"Image","auth":%s}\n' "$v1" "$ok_auth" ;;
  wrong-api-version)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Registry","auth":%s}\n' "$ok_auth" ;;
  wrong-kind)
    printf '{"kind":"CredentialProviderRequest","apiVersion":"%s","cacheKeyType":"Registry","auth":%s}\n' "$v1" "$ok_auth" ;;
  invalid-cache-key-type)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Repository","auth":%s}\n' "$v1" "$ok_auth" ;;
  missing-cache-key-type)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","auth":%s}\n' "$v1" "$ok_auth" ;;
  numeric-cache-duration)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Registry","cacheDuration":600,"auth":%s}\n' "$v1" "$ok_auth" ;;
  unitless-cache-duration)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Registry","cacheDuration":"600","auth":%s}\n' "$v1" "$ok_auth" ;;
  log-line)
    echo "I1122 20:03:01.000000 4242 plugin.go:42] fetching credentials"
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Registry","auth":%s}\n' "$v1" "$ok_auth" ;;
  two-documents)
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Registry","auth":%s}\n' "$v1" "$ok_auth"
    printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Registry","auth":%s}\n' "$v1" "$ok_auth" ;;
  empty-stdout)
    ;;
  exit-nonzero)
    echo "boom: the cloud said no" >&2
    echo "request was: $request" >&2
    exit 3 ;;
  sleep)
    sleep 30 ;;
  *)
    echo "misbehaving.sh: unknown MODE ${MODE:-}" >&2
    exit 64 ;;
esac
