#!/bin/sh
# A well-behaved plugin for the simulator's tests. Each run appends one line to $COUNT_FILE:
#   <the request it read> args=[arg1][arg2]... inherited=<$INHERITED>
# and answers in the request's apiVersion with
#   cacheKeyType   $CACHE_KEY_TYPE (default Registry)
#   cacheDuration  $CACHE_DURATION (left out when unset)
#   auth           $AUTH_JSON verbatim, or one entry for the image's registry host with
#                  $USERNAME (default "user") and $PASSWORD (default "secret-<run number>");
#                  PASSWORD=token answers with the request's serviceAccountToken.
# With $STDERR_NOTE set it also writes "<note> run <n>" to stderr, and still succeeds.
# With --version as its first argument it prints "<its file name> 0.0.0-test" and nothing else.
set -eu
if [ "${1:-}" = "--version" ]; then
  echo "${0##*/} 0.0.0-test"
  exit 0
fi
request=$(cat)
field() {
  printf '%s' "$request" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"
}
api_version=$(field apiVersion)
image=$(field image)
registry=${image%%/*}

args=""
for arg in "$@"; do args="${args}[$arg]"; done
if [ -n "${COUNT_FILE:-}" ]; then
  printf '%s args=%s inherited=%s\n' "$request" "$args" "${INHERITED:-}" >>"$COUNT_FILE"
  run=$(wc -l <"$COUNT_FILE" | tr -d ' ')
else
  run=1
fi

if [ -n "${STDERR_NOTE:-}" ]; then echo "$STDERR_NOTE run $run" >&2; fi
password=${PASSWORD:-secret-$run}
if [ "$password" = "token" ]; then password=$(field serviceAccountToken); fi
auth=${AUTH_JSON:-"{\"$registry\":{\"username\":\"${USERNAME:-user}\",\"password\":\"$password\"}}"}
duration=""
if [ -n "${CACHE_DURATION+set}" ]; then duration=",\"cacheDuration\":\"$CACHE_DURATION\""; fi

printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"%s"%s,"auth":%s}\n' \
  "$api_version" "${CACHE_KEY_TYPE:-Registry}" "$duration" "$auth"
