#!/bin/sh
# install.sh: install kubelet image credential providers (ecr-credential-provider,
# acr-credential-provider, auth-provider-gcp) from kubelet-credential-providers on a node, and
# write the matching CredentialProviderConfig.
#
# POSIX sh: runs under dash, busybox/alpine sh and bash. Needs curl or wget for URL sources, and
# sha256sum, shasum or openssl to verify checksums. `install.sh --help` for usage.
#
# Every binary is verified against the release's SHA256SUMS before it is installed, and is put in
# place atomically (a temporary file in the target directory, chmod 0755, then a rename), so a
# kubelet running the provider never sees a half-written file.
set -eu

REPO="kubelet-credential-providers/kubelet-credential-providers"
DEFAULT_SOURCE="https://github.com/${REPO}/releases/download/{tag}"
DEFAULT_BIN_DIR="/usr/local/bin/credential-providers"
DEFAULT_AZURE_CONFIG="/etc/kubernetes/azure.json"
CONFIG_MARKER="# Written by kubelet-credential-providers install.sh"
PROG="install.sh"

usage() {
  cat <<EOF
Usage: install.sh --provider ecr|acr|gcp[,...] (--version V | --source DIR_OR_URL) [flags]

Installs kubelet image credential providers from kubelet-credential-providers into the kubelet's
--image-credential-provider-bin-dir, verified against the release's SHA256SUMS, and writes (--config)
or prints (--print-config) a matching CredentialProviderConfig.

Flags:
  --provider P       ecr (ecr-credential-provider), acr (acr-credential-provider) or
                     gcp (auth-provider-gcp); repeatable, or a comma list. Required.
  --version V        the release to install: V for every provider, or ecr=V1,acr=V2. Without
                     --source, assets come from the GitHub release at tag
                     @kubelet-credential-provider/<provider>@<version> of ${REPO}.
  --source S         a directory or an http(s) URL holding the assets <binary>-linux-<arch> and
                     SHA256SUMS. {provider}, {version} and {tag} in S are replaced per provider.
                     Default: ${DEFAULT_SOURCE}
  --arch A           amd64 or arm64 (default: from uname -m)
  --bin-dir D        where to install (default: ${DEFAULT_BIN_DIR}); must be the
                     kubelet's --image-credential-provider-bin-dir. EKS: /etc/eks/image-credential-provider,
                     AKS: /var/lib/kubelet/credential-provider, GKE: /home/kubernetes/bin
  --config FILE      write the CredentialProviderConfig to FILE (the kubelet's
                     --image-credential-provider-config), atomically. A previous config not
                     written by this script is kept as FILE.bak; a file that is not a
                     CredentialProviderConfig is only replaced with --force.
  --print-config     print the CredentialProviderConfig on stdout
  --azure-config F   the cloud config the acr provider reads (default: ${DEFAULT_AZURE_CONFIG})
  --force            replace a --config file that is not a CredentialProviderConfig (kept as FILE.bak)
  --dry-run          say what would be done, change nothing
  -h, --help         print this help

Environment: INSTALL_RETRIES (download attempts, default 3), INSTALL_TIMEOUT (seconds per
download, default 300).
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
usage_error() {
  printf '%s: error: %s (see --help)\n' "$PROG" "$*" >&2
  exit 2
}

# ---- temporary files: everything created is listed here and removed on exit ------------------
TMP_FILES=""
WORK_DIR=""
cleanup() {
  for f in $TMP_FILES; do
    rm -f "$f" 2>/dev/null || :
  done
  if [ -n "$WORK_DIR" ]; then rm -rf "$WORK_DIR" 2>/dev/null || :; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# make_temp DIR NAME: sets MT_FILE to a new empty file in DIR (mode 0600), registered for cleanup.
# (Not run in a command substitution, whose subshell would lose the registration.)
make_temp() {
  MT_FILE=$(mktemp "$1/.$2.XXXXXX" 2>/dev/null) || die "cannot create a temporary file in $1"
  TMP_FILES="$TMP_FILES $MT_FILE"
}
# forget_temp FILE: FILE was renamed into place, do not remove it on exit.
forget_temp() {
  ft_rest=""
  for f in $TMP_FILES; do
    [ "$f" = "$1" ] || ft_rest="$ft_rest $f"
  done
  TMP_FILES=$ft_rest
}

# ---- arguments --------------------------------------------------------------------------------
PROVIDERS=""
VERSION_SPEC=""
SOURCE=""
ARCH=""
BIN_DIR="$DEFAULT_BIN_DIR"
CONFIG_FILE=""
PRINT_CONFIG=0
AZURE_CONFIG="$DEFAULT_AZURE_CONFIG"
FORCE=0
DRY_RUN=0

add_providers() {
  ap_list=$(printf '%s' "$1" | tr ',' ' ')
  [ -n "$(printf '%s' "$ap_list" | tr -d ' ')" ] || usage_error "--provider needs a value"
  for p in $ap_list; do
    case "$p" in
      ecr | acr | gcp) ;;
      ecr-credential-provider) p=ecr ;;
      acr-credential-provider) p=acr ;;
      auth-provider-gcp) p=gcp ;;
      *) usage_error "unknown provider '$p': use ecr, acr or gcp" ;;
    esac
    case " $PROVIDERS " in
      *" $p "*) ;;
      *) PROVIDERS="${PROVIDERS:+$PROVIDERS }$p" ;;
    esac
  done
}

need_value() {
  [ "$2" -ge 2 ] || usage_error "$1 needs a value"
}

while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    --*=*)
      val=${opt#*=}
      opt=${opt%%=*}
      shift
      set -- "$opt" "$val" "$@"
      continue
      ;;
  esac
  case "$opt" in
    -h | --help)
      usage
      exit 0
      ;;
    --provider)
      need_value "$opt" $#
      add_providers "$2"
      shift 2
      ;;
    --version)
      need_value "$opt" $#
      VERSION_SPEC="${VERSION_SPEC:+$VERSION_SPEC,}$2"
      shift 2
      ;;
    --source)
      need_value "$opt" $#
      SOURCE=$2
      shift 2
      ;;
    --arch)
      need_value "$opt" $#
      ARCH=$2
      shift 2
      ;;
    --bin-dir)
      need_value "$opt" $#
      BIN_DIR=$2
      shift 2
      ;;
    --config)
      need_value "$opt" $#
      CONFIG_FILE=$2
      shift 2
      ;;
    --azure-config)
      need_value "$opt" $#
      AZURE_CONFIG=$2
      shift 2
      ;;
    --print-config)
      PRINT_CONFIG=1
      shift
      ;;
    --force)
      FORCE=1
      shift
      ;;
    --dry-run)
      DRY_RUN=1
      shift
      ;;
    *) usage_error "unknown argument '$opt'" ;;
  esac
done

[ -n "$PROVIDERS" ] || usage_error "no provider chosen: pass --provider ecr|acr|gcp"
[ -n "$BIN_DIR" ] || usage_error "--bin-dir must not be empty"
case "$BIN_DIR" in
  /*) ;;
  *) usage_error "--bin-dir must be an absolute path, got '$BIN_DIR'" ;;
esac
case "$CONFIG_FILE" in
  "" | /*) ;;
  *) usage_error "--config must be an absolute path, got '$CONFIG_FILE'" ;;
esac
case "$AZURE_CONFIG" in
  /*) ;;
  *) usage_error "--azure-config must be an absolute path, got '$AZURE_CONFIG'" ;;
esac

# ---- per-provider facts ------------------------------------------------------------------------
binary_of() {
  case "$1" in
    ecr) echo ecr-credential-provider ;;
    acr) echo acr-credential-provider ;;
    gcp) echo auth-provider-gcp ;;
  esac
}

# version_of P: the version asked for provider P ("" when none).
version_of() {
  vo_all=""
  vo_one=""
  for v in $(printf '%s' "$VERSION_SPEC" | tr ',' ' '); do
    case "$v" in
      "$1"=*) vo_one=${v#*=} ;;
      *=*) ;;
      *) vo_all=$v ;;
    esac
  done
  printf '%s\n' "${vo_one:-$vo_all}"
}

# The release tag @kubelet-credential-provider/<p>@<version>, URL-encoded (it holds @ and /).
tag_of() {
  printf '%%40kubelet-credential-provider%%2F%s%%40%s\n' "$1" "$2"
}

# source_of P: the source (directory or URL) of provider P's assets, placeholders filled in.
source_of() {
  so_src=${SOURCE:-$DEFAULT_SOURCE}
  so_version=$(version_of "$1")
  case "$so_src" in
    *"{version}"* | *"{tag}"*)
      [ -n "$so_version" ] || die "no version for provider $1: pass --version (the source '$so_src' needs one)"
      case "$so_version" in
        *[!0-9A-Za-z.+-]*) die "invalid version '$so_version' for provider $1" ;;
      esac
      ;;
  esac
  so_tag=""
  if [ -n "$so_version" ]; then so_tag=$(tag_of "$1" "$so_version"); fi
  # Replace the placeholders (sed with a delimiter that cannot occur in a URL path or a version).
  printf '%s\n' "$so_src" | sed -e "s|{provider}|$1|g" -e "s|{version}|$so_version|g" -e "s|{tag}|$so_tag|g"
}

if [ -z "$SOURCE" ] && [ -z "$VERSION_SPEC" ]; then
  usage_error "pass --version (a GitHub release) or --source (a directory or URL with the release assets)"
fi

# ---- architecture ------------------------------------------------------------------------------
normalize_arch() {
  case "$1" in
    x86_64 | amd64 | x64) echo amd64 ;;
    aarch64 | arm64 | armv8 | armv8l | aarch64_be) echo arm64 ;;
    *) return 1 ;;
  esac
}
if [ -n "$ARCH" ]; then
  ARCH_IN=$ARCH
  ARCH=$(normalize_arch "$ARCH_IN") || die "unsupported architecture '$ARCH_IN' given to --arch: releases exist for amd64 and arm64 only"
else
  ARCH_IN=$(uname -m 2>/dev/null) || die "cannot run uname -m to detect the architecture: pass --arch amd64|arm64"
  ARCH=$(normalize_arch "$ARCH_IN") || die "unsupported architecture '$ARCH_IN' (uname -m): releases exist for amd64 and arm64 only; pass --arch to override"
fi

# ---- tools -------------------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }

# sha256_of FILE: the lowercase hex SHA-256 of FILE.
sha256_of() {
  if have sha256sum; then
    s_out=$(sha256sum "$1") || return 1
  elif have shasum; then
    s_out=$(shasum -a 256 "$1") || return 1
  elif have openssl; then
    s_out=$(openssl dgst -sha256 "$1") || return 1
    s_out=${s_out##*= }
  else
    die "no sha256sum, shasum or openssl found: cannot verify checksums"
  fi
  printf '%s\n' "${s_out%% *}" | tr 'A-F' 'a-f'
}

is_url() {
  case "$1" in
    http://* | https://*) return 0 ;;
    *) return 1 ;;
  esac
}

RETRIES=${INSTALL_RETRIES:-3}
TIMEOUT=${INSTALL_TIMEOUT:-300}
case "$RETRIES" in '' | *[!0-9]*) die "INSTALL_RETRIES must be a number" ;; esac
case "$TIMEOUT" in '' | *[!0-9]*) die "INSTALL_TIMEOUT must be a number" ;; esac

# download URL FILE: fetch URL into FILE with curl or wget, with timeouts and retries.
download() {
  if have curl; then
    # curl retries transient failures (timeouts, 429, 5xx) itself, not a 404.
    curl -fsSL --proto '=http,https' --connect-timeout 15 --max-time "$TIMEOUT" \
      --retry "$((RETRIES - 1))" --retry-delay 2 -o "$2" "$1" 2>/dev/null && return 0
    return 1
  elif have wget; then
    dl_try=1
    while :; do
      # -T: network timeout (GNU wget and busybox wget both have it).
      if wget -q -T 60 -O "$2" "$1" 2>/dev/null; then return 0; fi
      [ "$dl_try" -lt "$RETRIES" ] || return 1
      sleep "$dl_try"
      dl_try=$((dl_try + 1))
    done
  else
    die "neither curl nor wget found: cannot download from $1"
  fi
}

# fetch SOURCE NAME FILE: copy or download SOURCE/NAME into FILE.
fetch() {
  if is_url "$1"; then
    download "${1%/}/$2" "$3" || die "cannot download ${1%/}/$2"
  else
    [ -f "$1/$2" ] || die "asset $2 not found in $1"
    cp "$1/$2" "$3" || die "cannot copy $1/$2"
  fi
}

# expected_sha SUMS NAME: the checksum SUMS lists for NAME ("" when none, error when ambiguous).
expected_sha() {
  awk -v name="$2" '
    { f = $2; sub(/^\*/, "", f); sub(/^\.\//, "", f) }
    f == name && NF == 2 { print tolower($1) }
  ' "$1" | sort -u | {
    es_n=0
    es_sha=""
    while read -r line; do
      es_n=$((es_n + 1))
      es_sha=$line
    done
    [ "$es_n" -le 1 ] || exit 3
    printf '%s\n' "$es_sha"
  }
}

# ---- the CredentialProviderConfig --------------------------------------------------------------
provider_entry() {
  case "$1" in
    ecr)
      cat <<'EOF'
  - name: ecr-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
      - "*.dkr-ecr.*.on.aws"
      - "*.dkr.ecr.*.amazonaws.com.cn"
      - "*.dkr-ecr.*.on.amazonwebservices.com.cn"
      - "*.dkr.ecr-fips.*.amazonaws.com"
      - "*.dkr-ecr-fips.*.on.aws"
      - "*.dkr.ecr.*.c2s.ic.gov"
      - "*.dkr.ecr.*.sc2s.sgov.gov"
      - "*.dkr.ecr.*.cloud.adc-e.uk"
      - "*.dkr.ecr.*.csp.hci.ic.gov"
      - "*.dkr.ecr.*.amazonaws.eu"
      - "public.ecr.aws"
      - "ecr-public.aws.com"
    defaultCacheDuration: "12h"
EOF
      ;;
    acr)
      cat <<'EOF'
  - name: acr-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages:
      - "*.azurecr.io"
      - "*.azurecr.cn"
      - "*.azurecr.de"
      - "*.azurecr.us"
      - "*.*.geo.azurecr.io"
      - "*.*.geo.azurecr.cn"
      - "*.*.geo.azurecr.de"
      - "*.*.geo.azurecr.us"
    defaultCacheDuration: "10m"
    args:
EOF
      printf '      - "%s"\n' "$AZURE_CONFIG"
      ;;
    gcp)
      cat <<'EOF'
  - name: auth-provider-gcp
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages:
      - "container.cloud.google.com"
      - "gcr.io"
      - "*.gcr.io"
      - "*.pkg.dev"
    defaultCacheDuration: "1m"
    args:
      - get-credentials
      - --v=3
EOF
      ;;
  esac
}

render_config() {
  printf '%s; re-running it replaces this file.\n' "$CONFIG_MARKER"
  printf '# The kubelet reads it with --image-credential-provider-config and runs each provider named\n'
  printf '# here from its --image-credential-provider-bin-dir.\n'
  printf 'apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n'
  for p in $PROVIDERS; do provider_entry "$p"; done
}

case "$AZURE_CONFIG" in
  *'"'* | *'\'* | *"
"*) usage_error "--azure-config must not contain quotes, backslashes or newlines" ;;
esac

# ---- plan --------------------------------------------------------------------------------------
if [ "$DRY_RUN" -eq 1 ]; then
  for p in $PROVIDERS; do
    b=$(binary_of "$p")
    src=$(source_of "$p")
    log "dry run: would install $src/$b-linux-$ARCH (verified against SHA256SUMS) as $BIN_DIR/$b"
  done
  if [ -n "$CONFIG_FILE" ]; then log "dry run: would write the CredentialProviderConfig to $CONFIG_FILE"; fi
  if [ "$PRINT_CONFIG" -eq 1 ]; then render_config; fi
  exit 0
fi

# ---- check the config target before anything changes --------------------------------------------
if [ -n "$CONFIG_FILE" ]; then
  [ ! -d "$CONFIG_FILE" ] || die "--config $CONFIG_FILE is a directory: name a file in it (e.g. $CONFIG_FILE/credential-providers.yaml)"
  if [ -e "$CONFIG_FILE" ] && [ "$FORCE" -ne 1 ] && ! grep -q 'CredentialProviderConfig' "$CONFIG_FILE" 2>/dev/null; then
    die "refusing to replace $CONFIG_FILE: it is not a CredentialProviderConfig; pass --force to replace it (it is kept as $CONFIG_FILE.bak)"
  fi
fi

# ---- install the binaries ----------------------------------------------------------------------
if [ ! -d "$BIN_DIR" ]; then
  mkdir -p "$BIN_DIR" || die "cannot create the bin dir $BIN_DIR"
fi
[ -w "$BIN_DIR" ] || die "cannot write to the bin dir $BIN_DIR"

WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kcp-install.XXXXXX") || die "cannot create a temporary directory"

for p in $PROVIDERS; do
  b=$(binary_of "$p")
  asset="$b-linux-$ARCH"
  src=$(source_of "$p")
  target="$BIN_DIR/$b"

  sums="$WORK_DIR/$p.SHA256SUMS"
  fetch "$src" SHA256SUMS "$sums"
  want=$(expected_sha "$sums" "$asset") || die "SHA256SUMS from $src lists $asset more than once with different checksums"
  [ -n "$want" ] || die "SHA256SUMS from $src has no entry for $asset: refusing to install an unverified binary"
  case "$want" in
    *[!0-9a-f]* | "") die "SHA256SUMS from $src has a malformed checksum for $asset" ;;
  esac
  [ "${#want}" -eq 64 ] || die "SHA256SUMS from $src has a malformed checksum for $asset"

  if [ -f "$target" ] && [ -x "$target" ] && [ "$(sha256_of "$target")" = "$want" ]; then
    log "$b: already installed at $target (sha256 $want), unchanged"
    continue
  fi

  # Stage in the target directory itself so that the final mv is a rename on one filesystem.
  [ ! -d "$target" ] || die "$target is a directory, not a file"
  make_temp "$BIN_DIR" "$b"
  tmp=$MT_FILE
  fetch "$src" "$asset" "$tmp"
  got=$(sha256_of "$tmp") || die "cannot compute the checksum of $asset"
  [ "$got" = "$want" ] || die "checksum mismatch for $asset from $src: expected $want, got $got; nothing installed"
  chmod 0755 "$tmp" || die "cannot chmod $tmp"
  mv -f "$tmp" "$target" || die "cannot move $asset into place at $target"
  forget_temp "$tmp"
  log "$b: installed $asset at $target (sha256 $want)"
done

# ---- the config --------------------------------------------------------------------------------
if [ -n "$CONFIG_FILE" ]; then
  cfg_dir=$(dirname "$CONFIG_FILE")
  cfg_name=$(basename "$CONFIG_FILE")
  if [ ! -d "$cfg_dir" ]; then
    mkdir -p "$cfg_dir" || die "cannot create the config directory $cfg_dir"
  fi
  make_temp "$cfg_dir" "$cfg_name"
  cfg_tmp=$MT_FILE
  render_config >"$cfg_tmp" || die "cannot write $cfg_tmp"
  chmod 0644 "$cfg_tmp" || die "cannot chmod $cfg_tmp"

  if [ -e "$CONFIG_FILE" ] && cmp -s "$cfg_tmp" "$CONFIG_FILE"; then
    log "config $CONFIG_FILE: unchanged"
  else
    if [ -e "$CONFIG_FILE" ]; then
      if grep -q "^$CONFIG_MARKER" "$CONFIG_FILE" 2>/dev/null; then
        : # written by an earlier run: replace it
      else
        # Not written by this script (checked above: a CredentialProviderConfig, or --force).
        backup="$CONFIG_FILE.bak"
        if [ -e "$backup" ]; then backup="$CONFIG_FILE.bak.$(date +%Y%m%d%H%M%S)"; fi
        cp -p "$CONFIG_FILE" "$backup" || die "cannot back up $CONFIG_FILE to $backup"
        log "config $CONFIG_FILE: the previous one is kept as $backup"
      fi
    fi
    mv -f "$cfg_tmp" "$CONFIG_FILE" || die "cannot move the config into place at $CONFIG_FILE"
    forget_temp "$cfg_tmp"
    log "config $CONFIG_FILE: written (providers: $PROVIDERS)"
  fi
fi

if [ "$PRINT_CONFIG" -eq 1 ]; then render_config; fi
