#!/bin/sh
# install.sh: install kubelet image credential providers (ecr-credential-provider,
# acr-credential-provider, auth-provider-gcp) from kubelet-credential-providers on a node, and
# merge their entries into the kubelet's CredentialProviderConfig (or remove them: --uninstall).
#
# POSIX sh: runs under dash, busybox/alpine sh and bash. Needs curl or wget for URL sources, and
# sha256sum, shasum or openssl to verify checksums. `install.sh --help` for usage.
#
# It runs as root on every node, so it is written like a package manager's last step:
# - every argument is validated before anything else happens (a fixed list of providers and
#   architectures, semantic versions, 64-hex-digit checksums, absolute paths without control
#   characters), and every value is then used quoted, as data: nothing is evaluated, no value goes
#   into a sed script, pathname expansion is off (set -f);
# - URLs are HTTPS only, redirects included (--allow-http lets a plain-HTTP source through, with a
#   warning);
# - nothing on the node changes until every requested binary is downloaded and verified (against
#   the release's SHA256SUMS, or a checksum pinned with --sha256); then each binary is copied into a
#   private directory next to its target, checked, and renamed over it, so a kubelet running the
#   provider never sees a half-written file. A failure before the renames leaves the node as it was.
# - the config is never parsed here: kubelet-credential-sim (shipped in every release, verified like
#   a provider) merges or removes one entry at a time with the kubelet's own rules, first on a copy
#   (so that a config it cannot read stops the run before anything changes), then on the file.
set -eu
# No value may ever turn into a list of files, nor be split on an inherited IFS.
set -f
IFS=$(printf ' \t\nx')
IFS=${IFS%x}
umask 022

REPO="kubelet-credential-providers/kubelet-credential-providers"
DEFAULT_SOURCE="https://github.com/${REPO}/releases/download/{tag}"
DEFAULT_BIN_DIR="/usr/local/bin/credential-providers"
DEFAULT_AZURE_CONFIG="/etc/kubernetes/azure.json"
SIM_NAME="kubelet-credential-sim"
PROG="install.sh"

usage() {
  cat <<EOF
Usage: install.sh --provider ecr|acr|gcp|sim[,...] (--version V | --source DIR_OR_URL) [flags]
       install.sh --uninstall --provider ecr|acr|gcp|sim[,...] [--config FILE (--version V | --source S)] [flags]

Installs kubelet image credential providers from kubelet-credential-providers into the kubelet's
--image-credential-provider-bin-dir, verified against the release's SHA256SUMS or a pinned
checksum, and merges their entries into the kubelet's CredentialProviderConfig (--config) or
prints them (--print-config). Nothing changes on the node until every binary is downloaded and
verified and the config edit is known to succeed. The config is edited by ${SIM_NAME}, which
every release carries: it is downloaded and verified like a provider, and run from a private
directory (not installed unless --provider sim).

Flags:
  --provider P       ecr (ecr-credential-provider), acr (acr-credential-provider),
                     gcp (auth-provider-gcp) or sim (${SIM_NAME}, the simulator, for
                     operators: it belongs in a bin dir on your PATH, never gets a config entry,
                     and needs an explicit --bin-dir); repeatable, or a comma list. Required.
  --version V        the release to install, a semantic version (1.2.3, 1.2.3-rc.1): V for every
                     provider, or ecr=V1,acr=V2. Without --source, assets come from the GitHub
                     release at tag @kubelet-credential-provider/<provider>@<version> of ${REPO}.
                     ${SIM_NAME} comes from the first provider's release (ecr's for
                     --provider sim alone, or the one provider named in --version P=V).
  --source S         a directory or an https:// URL holding the assets <binary>-linux-<arch>,
                     ${SIM_NAME}-linux-<arch> and SHA256SUMS. {provider}, {version} and {tag}
                     in S are replaced per provider. Redirects must lead to https:// URLs too.
                     Default: ${DEFAULT_SOURCE}
  --allow-http       accept an http:// --source (with a warning): the downloads, SHA256SUMS
                     included, can then be changed on the way; pin the checksums with --sha256
  --sha256 HASH      verify the binary against HASH (64 hex digits) instead of the downloaded
                     SHA256SUMS, which is then not needed. HASH alone when one binary is
                     installed; NAME=HASH per binary, NAME being ecr, acr, gcp, sim, the binary's
                     name, or the asset's name <binary>-linux-<arch> (a pin for the other
                     architecture's asset is ignored, so one list serves amd64 and arm64 nodes).
                     ${SIM_NAME} is verified against SHA256SUMS unless it is pinned by name.
                     Repeatable, or a comma list.
  --arch A           amd64 or arm64 (default: from uname -m); ${SIM_NAME} is run on this
                     node to edit the config, so with --config it must be the node's
  --bin-dir D        where to install (default: ${DEFAULT_BIN_DIR}); must be the
                     kubelet's --image-credential-provider-bin-dir. EKS: /etc/eks/image-credential-provider,
                     AKS: /var/lib/kubelet/credential-provider, GKE: /home/kubernetes/bin
  --config FILE      the kubelet's --image-credential-provider-config: each installed provider's
                     entry is added to FILE, or replaces the entry of the same name; every other
                     provider, field and comment stays. FILE is JSON or YAML (a .json FILE is
                     written as JSON, a .yaml/.yml one as YAML; a new FILE is YAML unless it ends
                     in .json), replaced atomically after a backup FILE.bak-YYYYMMDDThhmmssZ next
                     to it. A FILE the kubelet cannot read is left alone unless --force.
  --print-config     print the entries this run adds, as a CredentialProviderConfig, on stdout
                     (JSON when --config ends in .json, YAML otherwise)
  --azure-config F   the cloud config the acr provider reads (default: ${DEFAULT_AZURE_CONFIG}), for
                     a new entry: an entry the config already has keeps its args, env and
                     tokenAttributes
  --force            replace a --config FILE the kubelet cannot read (it is backed up first) by
                     a config holding just this run's entries
  --uninstall        remove each --provider's binary from --bin-dir (a regular file or symlink of
                     exactly that name, nothing else) and, with --config, its entry from FILE.
                     Downloads nothing but ${SIM_NAME} (with --config). The last entry of FILE
                     is not removed: the kubelet does not start without providers; remove its
                     --image-credential-provider-* flags instead, or pass --allow-empty
  --allow-empty      with --uninstall: remove the last entry too, leaving providers: []
  --restart-kubelet  restart the kubelet (systemctl restart kubelet) when the config changed: it
                     reads the config only when it starts. Needs --config and systemd.
  --dry-run          download and verify everything, print each config change as a unified diff
                     (${SIM_NAME}'s), say what would be installed or removed, change nothing
  -h, --help         print this help

Environment: INSTALL_RETRIES (download attempts, default 3), INSTALL_TIMEOUT (seconds per
download, default 300), TMPDIR (where downloads are kept until they are verified, and where
${SIM_NAME} runs from: room for every requested binary is needed, and it must not be noexec).
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
usage_error() {
  printf '%s: error: %s (see --help)\n' "$PROG" "$*" >&2
  exit 2
}

# ---- private directories: removed on exit, whatever happens --------------------------------------
# WORK_DIR (under TMPDIR) holds the downloads until they are verified; STAGE_BIN and STAGE_CFG sit
# next to the targets so that putting a file in place is a rename on one file system. Each is one
# directory made by mktemp -d and removed with rm -rf -- "$DIR": no list of files to split.
WORK_DIR=""
STAGE_BIN=""
STAGE_CFG=""
# The topmost directory this run created for the bin dir and the config's directory ("" when none):
# a failed run removes them again (only while they are empty), so no empty bin dir is left behind.
CREATED_BIN_TOP=""
CREATED_CFG_TOP=""
BIN_DIR=""
CFG_DIR=""

# remove_created DIR TOP: remove DIR and its parents up to TOP, as long as they are empty.
remove_created() {
  [ -n "$2" ] || return 0
  rc_d=$1
  while rmdir -- "$rc_d" 2>/dev/null; do
    [ "$rc_d" != "$2" ] || break
    rc_d=$(parent_of "$rc_d")
  done
}

cleanup() {
  cl_rc=$?
  if [ -n "$STAGE_CFG" ]; then rm -rf -- "$STAGE_CFG" 2>/dev/null || :; fi
  if [ -n "$STAGE_BIN" ]; then rm -rf -- "$STAGE_BIN" 2>/dev/null || :; fi
  if [ -n "$WORK_DIR" ]; then rm -rf -- "$WORK_DIR" 2>/dev/null || :; fi
  if [ "$cl_rc" -ne 0 ]; then
    # The config's directory may have been created inside the bin dir's new tree: it goes first.
    remove_created "$CFG_DIR" "$CREATED_CFG_TOP"
    remove_created "$BIN_DIR" "$CREATED_BIN_TOP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- small helpers ----------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }

# has_ctrl VALUE: VALUE holds a control character (a newline, a tab, an escape...).
has_ctrl() {
  case "$1" in
    *[[:cntrl:]]*) return 0 ;;
    *) return 1 ;;
  esac
}

# parent_of PATH: the directory PATH is in ("/" for a top-level one).
parent_of() {
  po_p=${1%/*}
  printf '%s\n' "${po_p:-/}"
}

# strip_slashes PATH: PATH without trailing slashes ("/" stays "/").
strip_slashes() {
  ss_p=$1
  while [ "$ss_p" != / ] && [ "${ss_p%/}" != "$ss_p" ]; do ss_p=${ss_p%/}; done
  printf '%s\n' "$ss_p"
}

# replace_all STRING FROM TO: STRING with every FROM replaced by TO, both taken literally (an
# empty FROM replaces nothing).
replace_all() {
  ra_in=$1
  if [ -z "$2" ]; then
    printf '%s\n' "$ra_in"
    return 0
  fi
  ra_out=""
  while :; do
    case "$ra_in" in
      *"$2"*)
        ra_out="$ra_out${ra_in%%"$2"*}$3"
        ra_in=${ra_in#*"$2"}
        ;;
      *)
        printf '%s\n' "$ra_out$ra_in"
        return 0
        ;;
    esac
  done
}

# Lists (--provider, --version, --sha256) are comma or space separated. list_next takes the next
# non-empty item of LIST_REST into ITEM, and fails when none is left: no word splitting involved.
LIST_REST=""
ITEM=""
list_next() {
  while [ -n "$LIST_REST" ]; do
    ITEM=${LIST_REST%%[, ]*}
    case "$LIST_REST" in
      *[,\ ]*) LIST_REST=${LIST_REST#*[, ]} ;;
      *) LIST_REST="" ;;
    esac
    [ -z "$ITEM" ] || return 0
  done
  return 1
}

# map_get MAP KEY: the value of KEY in MAP ("key=value,key=value", whose keys and values were
# validated and hold neither "," nor "="); fails when KEY is absent.
map_get() {
  mg_all=",$1,"
  case "$mg_all" in
    *",$2="*)
      mg_v=${mg_all#*",$2="}
      printf '%s\n' "${mg_v%%,*}"
      ;;
    *) return 1 ;;
  esac
}

# is_num_id S: S is a number without a leading zero (a semver numeric identifier).
is_num_id() {
  case "$1" in
    '' | *[!0-9]*) return 1 ;;
    0) return 0 ;;
    0*) return 1 ;;
    *) return 0 ;;
  esac
}

# is_dot_ids S NUMERIC_RULE: S is dot-separated non-empty identifiers of [0-9A-Za-z-]; with
# NUMERIC_RULE=1, an all-digit identifier has no leading zero (semver pre-release rule).
is_dot_ids() {
  id_rest=$1
  [ -n "$id_rest" ] || return 1
  while :; do
    id_one=${id_rest%%.*}
    case "$id_one" in
      '' | *[!0-9A-Za-z-]*) return 1 ;;
    esac
    if [ "$2" -eq 1 ]; then
      case "$id_one" in
        *[!0-9]*) ;;
        *) is_num_id "$id_one" || return 1 ;;
      esac
    fi
    case "$id_rest" in
      *.*) id_rest=${id_rest#*.} ;;
      *) return 0 ;;
    esac
  done
}

# is_semver V: V is a semantic version (semver.org 2.0.0), MAJOR.MINOR.PATCH[-PRE][+BUILD].
is_semver() {
  case "$1" in
    '' | *[!0-9A-Za-z.+-]*) return 1 ;;
  esac
  [ "${#1}" -le 128 ] || return 1
  sv_core=${1%%[-+]*}
  sv_rest=${1#"$sv_core"}
  case "$sv_core" in
    *.*.*.*) return 1 ;;
    *.*.*) ;;
    *) return 1 ;;
  esac
  is_num_id "${sv_core%%.*}" || return 1
  sv_mp=${sv_core#*.}
  is_num_id "${sv_mp%%.*}" || return 1
  is_num_id "${sv_mp#*.}" || return 1
  case "$sv_rest" in
    '') return 0 ;;
    +*) is_dot_ids "${sv_rest#+}" 0 ;;
    -*)
      sv_pre=${sv_rest#-}
      case "$sv_pre" in
        *+*)
          is_dot_ids "${sv_pre%%+*}" 1 || return 1
          is_dot_ids "${sv_pre#*+}" 0
          ;;
        *) is_dot_ids "$sv_pre" 1 ;;
      esac
      ;;
    *) return 1 ;;
  esac
}

# is_sha256 H: H is 64 hex digits.
is_sha256() {
  case "$1" in
    '' | *[!0-9a-fA-F]*) return 1 ;;
  esac
  [ "${#1}" -eq 64 ]
}

# ---- the providers: the one list of what can be installed ------------------------------------
# provider_key NAME: the short name (ecr, acr, gcp) of a provider named by it or by its binary.
provider_key() {
  case "$1" in
    ecr | ecr-credential-provider) echo ecr ;;
    acr | acr-credential-provider) echo acr ;;
    gcp | auth-provider-gcp) echo gcp ;;
    *) return 1 ;;
  esac
}
binary_of() {
  case "$1" in
    ecr) echo ecr-credential-provider ;;
    acr) echo acr-credential-provider ;;
    gcp) echo auth-provider-gcp ;;
    sim) echo "$SIM_NAME" ;;
  esac
}

# ---- arguments --------------------------------------------------------------------------------
# PROVIDERS, VERSIONS and PINS only ever hold validated values: provider keys from the list above,
# semantic versions, hex checksums. PROVIDERS is a space-separated list of those keys; the simulator
# (--provider sim) is not among them, since it never gets a config entry: WITH_SIM says it is asked.
PROVIDERS=""
WITH_SIM=0
BIN_DIR_GIVEN=0
UNINSTALL=0
ALLOW_EMPTY=0
VERSIONS=""
PINS=""
SOURCE=""
ARCH=""
BIN_DIR="$DEFAULT_BIN_DIR"
CONFIG_FILE=""
PRINT_CONFIG=0
AZURE_CONFIG="$DEFAULT_AZURE_CONFIG"
FORCE=0
DRY_RUN=0
ALLOW_HTTP=0
RESTART_KUBELET=0

add_providers() {
  LIST_REST=$1
  ap_any=0
  while list_next; do
    ap_any=1
    case "$ITEM" in
      sim | "$SIM_NAME")
        WITH_SIM=1
        continue
        ;;
    esac
    ap_key=$(provider_key "$ITEM") || usage_error "unknown provider '$ITEM': use ecr, acr, gcp or sim"
    case " $PROVIDERS " in
      *" $ap_key "*) ;;
      *) PROVIDERS="${PROVIDERS:+$PROVIDERS }$ap_key" ;;
    esac
  done
  [ "$ap_any" -eq 1 ] || usage_error "--provider needs a value"
}

# split_keyed RESOLVE: ITEM, NAME=VALUE or a bare VALUE, into KEY (NAME as RESOLVE names it; "*" for
# a bare VALUE, which applies to every name) and KEY_VAL; fails when RESOLVE does not know NAME.
KEY=""
KEY_VAL=""
split_keyed() {
  case "$ITEM" in
    *=*)
      KEY=$("$1" "${ITEM%%=*}") || return 1
      KEY_VAL=${ITEM#*=}
      ;;
    *)
      KEY='*'
      KEY_VAL=$ITEM
      ;;
  esac
}

# map_put MAP KEY VALUE: MAP with KEY=VALUE added (MAP as it is when KEY holds VALUE already); when
# KEY holds another value, prints that value and fails.
map_put() {
  if mp_old=$(map_get "$1" "$2"); then
    if [ "$mp_old" != "$3" ]; then
      printf '%s\n' "$mp_old"
      return 1
    fi
    printf '%s\n' "$1"
  else
    printf '%s\n' "${1:+$1,}$2=$3"
  fi
}

# add_versions LIST: V (every provider) or P=V items, kept in VERSIONS as "key=V" ("*" for all).
add_versions() {
  LIST_REST=$1
  av_any=0
  while list_next; do
    split_keyed provider_key || usage_error "--version: unknown provider '${ITEM%%=*}' in '$ITEM': use ecr, acr or gcp"
    is_semver "$KEY_VAL" || usage_error "invalid version '$KEY_VAL': a semantic version like 0.1.0 or 1.2.3-rc.1 is expected"
    av_map=$(map_put "$VERSIONS" "$KEY" "$KEY_VAL") || usage_error "--version gives two versions for ${KEY}: $av_map and $KEY_VAL"
    VERSIONS=$av_map
    av_any=1
  done
  [ "$av_any" -eq 1 ] || usage_error "--version needs a value"
}

# pin_key NAME: what a --sha256 NAME=HASH pins: a provider key, sim, or an asset
# <binary>-linux-<arch>.
pin_key() {
  if pk_key=$(provider_key "$1"); then
    printf '%s\n' "$pk_key"
    return 0
  fi
  case "$1" in
    sim | "$SIM_NAME") echo sim ;;
    "$SIM_NAME"-linux-amd64 | "$SIM_NAME"-linux-arm64) printf '%s\n' "$1" ;;
    *-linux-amd64 | *-linux-arm64)
      pk_key=$(provider_key "${1%-linux-*}") || return 1
      printf '%s-linux-%s\n' "$(binary_of "$pk_key")" "${1##*-}"
      ;;
    *) return 1 ;;
  esac
}

# add_pins LIST: HASH or NAME=HASH items, kept in PINS as "key=hash" ("*" for an unnamed one). An
# empty LIST pins nothing (a setting that may be empty can always be passed).
add_pins() {
  LIST_REST=$1
  while list_next; do
    split_keyed pin_key || usage_error "--sha256: unknown name '${ITEM%%=*}': use ecr, acr, gcp, sim, a binary's name or <binary>-linux-<arch>"
    is_sha256 "$KEY_VAL" || usage_error "--sha256: '$KEY_VAL' is not a SHA-256 checksum (64 hex digits)"
    ak_hash=$(printf '%s\n' "$KEY_VAL" | tr 'A-F' 'a-f')
    ak_map=$(map_put "$PINS" "$KEY" "$ak_hash") || usage_error "--sha256 pins ${KEY} twice, to different checksums"
    PINS=$ak_map
  done
}

need_value() {
  [ "$2" -ge 2 ] || usage_error "$1 needs a value"
}

# No argument may hold a control character: none is ever needed, and a newline would let a value
# forge lines of this script's output or of the config it writes.
for arg in "$@"; do
  ! has_ctrl "$arg" || usage_error "an argument holds a control character (a newline, a tab...): refused"
done

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
      add_versions "$2"
      shift 2
      ;;
    --sha256)
      need_value "$opt" $#
      add_pins "$2"
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
      BIN_DIR_GIVEN=1
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
    --allow-http)
      ALLOW_HTTP=1
      shift
      ;;
    --restart-kubelet)
      RESTART_KUBELET=1
      shift
      ;;
    --uninstall)
      UNINSTALL=1
      shift
      ;;
    --allow-empty)
      ALLOW_EMPTY=1
      shift
      ;;
    *) usage_error "unknown argument '$opt'" ;;
  esac
done

[ -n "$PROVIDERS" ] || [ "$WITH_SIM" -eq 1 ] || usage_error "no provider chosen: pass --provider ecr|acr|gcp|sim"
if [ "$WITH_SIM" -eq 1 ] && [ -z "$PROVIDERS" ]; then
  if [ -n "$CONFIG_FILE" ] || [ "$PRINT_CONFIG" -eq 1 ]; then
    usage_error "--provider sim alone has no config entry: --config and --print-config need a provider (ecr, acr or gcp)"
  fi
fi
if [ "$WITH_SIM" -eq 1 ] && [ "$BIN_DIR_GIVEN" -eq 0 ]; then
  usage_error "--provider sim needs --bin-dir: a directory on your PATH (e.g. /usr/local/bin), not the kubelet's"
fi
if [ "$UNINSTALL" -eq 1 ]; then
  [ "$PRINT_CONFIG" -eq 0 ] || usage_error "--uninstall and --print-config do not go together: nothing is added"
  [ "$FORCE" -eq 0 ] || usage_error "--uninstall takes no --force: an entry cannot be removed from a file the kubelet cannot read"
else
  [ "$ALLOW_EMPTY" -eq 0 ] || usage_error "--allow-empty goes with --uninstall only"
fi
# The simulator is downloaded (into the private work dir) to edit the config, or to be installed.
NEED_SIM=0
if [ -n "$CONFIG_FILE" ]; then NEED_SIM=1; fi
if [ "$WITH_SIM" -eq 1 ] && [ "$UNINSTALL" -eq 0 ]; then NEED_SIM=1; fi
# An uninstall without --config downloads nothing, so it needs no source.
if [ -z "$SOURCE" ] && [ -z "$VERSIONS" ] && { [ "$UNINSTALL" -eq 0 ] || [ "$NEED_SIM" -eq 1 ]; }; then
  if [ "$UNINSTALL" -eq 1 ]; then
    usage_error "--uninstall with --config needs --version or --source: $SIM_NAME, which edits the config, is downloaded from there"
  fi
  usage_error "pass --version (a GitHub release) or --source (a directory or URL with the release assets)"
fi

# ---- paths: absolute, then used as data -----------------------------------------------------------
case "$BIN_DIR" in
  /*) ;;
  "") usage_error "--bin-dir must not be empty" ;;
  *) usage_error "--bin-dir must be an absolute path, got '$BIN_DIR'" ;;
esac
BIN_DIR=$(strip_slashes "$BIN_DIR")
case "$CONFIG_FILE" in
  "") ;;
  */) usage_error "--config must name a file, got the directory '$CONFIG_FILE'" ;;
  /*) CFG_DIR=$(parent_of "$CONFIG_FILE") ;;
  *) usage_error "--config must be an absolute path, got '$CONFIG_FILE'" ;;
esac
case "$AZURE_CONFIG" in
  *'"'* | *\\*) usage_error "--azure-config must not contain quotes or backslashes" ;;
  /*) ;;
  *) usage_error "--azure-config must be an absolute path, got '$AZURE_CONFIG'" ;;
esac
if [ "$RESTART_KUBELET" -eq 1 ] && [ -z "$CONFIG_FILE" ]; then
  usage_error "--restart-kubelet needs --config: the kubelet is restarted to read a changed config"
fi

# ---- checksum pins: each names a provider being installed ------------------------------------------
LIST_REST=$PINS
while list_next; do
  pn_key=${ITEM%%=*}
  case "$pn_key" in
    '*')
      [ "$UNINSTALL" -eq 0 ] || usage_error "--sha256 with --uninstall pins $SIM_NAME only: use sim=HASH"
      case "$PROVIDERS" in
        *" "*) usage_error "--sha256 HASH without a name pins one provider, but several are installed: use NAME=HASH" ;;
        ?*) [ "$WITH_SIM" -eq 0 ] || usage_error "--sha256 HASH without a name pins one provider, but several are installed: use NAME=HASH" ;;
      esac
      ;;
    sim | "$SIM_NAME"-linux-*)
      [ "$NEED_SIM" -eq 1 ] || usage_error "--sha256 pins $pn_key, but $SIM_NAME is not needed: it is downloaded with --config or --provider sim"
      ;;
    *)
      [ "$UNINSTALL" -eq 0 ] || usage_error "--sha256 pins $pn_key, but --uninstall downloads no provider"
      pn_p=$(provider_key "${pn_key%-linux-*}")
      case " $PROVIDERS " in
        *" $pn_p "*) ;;
        *) usage_error "--sha256 pins ${pn_key}, but provider $pn_p is not being installed" ;;
      esac
      ;;
  esac
done

# ---- the source ---------------------------------------------------------------------------------
SOURCE_TEMPLATE=${SOURCE:-$DEFAULT_SOURCE}
SOURCE_IS_URL=0
CURL_PROTO="=https"
case "$SOURCE_TEMPLATE" in
  https://*) SOURCE_IS_URL=1 ;;
  http://*)
    [ "$ALLOW_HTTP" -eq 1 ] || usage_error "refusing the plain-HTTP source '$SOURCE_TEMPLATE': use an https:// URL, or pass --allow-http"
    SOURCE_IS_URL=1
    CURL_PROTO="=http,https"
    ;;
  *://*) usage_error "unsupported source '$SOURCE_TEMPLATE': use a directory or an https:// URL" ;;
esac
if [ "$SOURCE_IS_URL" -eq 1 ]; then
  case "$SOURCE_TEMPLATE" in
    *[[:space:]]*) usage_error "the source URL must not contain spaces: encode them as %20" ;;
  esac
fi

# version_of P: the version asked for provider P ("" when none).
version_of() {
  map_get "$VERSIONS" "$1" || map_get "$VERSIONS" '*' || :
}

# source_of P: the source (directory or URL) of provider P's assets, placeholders filled in, with
# nothing but literal string replacement: a version is a validated semver, never a script.
source_of() {
  so_version=$(version_of "$1")
  so_tag=""
  if [ -n "$so_version" ]; then
    # The release tag @kubelet-credential-provider/<p>@<version>, URL-encoded (it holds @ and /).
    so_tag=$(printf '%%40kubelet-credential-provider%%2F%s%%40%s' "$1" "$so_version")
  fi
  so_src=$(replace_all "$SOURCE_TEMPLATE" "{provider}" "$1")
  so_src=$(replace_all "$so_src" "{version}" "$so_version")
  replace_all "$so_src" "{tag}" "$so_tag"
}

# SIM_FROM: the provider whose release (source) the simulator is taken from: every release carries
# it. The first provider named; for --provider sim alone, the one named in --version P=V, else ecr.
SIM_FROM=""
if [ "$NEED_SIM" -eq 1 ]; then
  for p in $PROVIDERS; do
    SIM_FROM=$p
    break
  done
  if [ -z "$SIM_FROM" ]; then
    LIST_REST=$VERSIONS
    while list_next; do
      case "$ITEM" in
        '*='*) ;;
        *)
          SIM_FROM=${ITEM%%=*}
          break
          ;;
      esac
    done
  fi
  SIM_FROM=${SIM_FROM:-ecr}
fi

# The releases downloaded from: the providers' (not for --uninstall), and the simulator's.
if [ "$UNINSTALL" -eq 1 ]; then NEED_VERSION=$SIM_FROM; else NEED_VERSION="$PROVIDERS $SIM_FROM"; fi
for p in $NEED_VERSION; do
  case "$SOURCE_TEMPLATE" in
    *"{version}"* | *"{tag}"*)
      [ -n "$(version_of "$p")" ] || usage_error "no version for provider $p: pass --version (the source '$SOURCE_TEMPLATE' needs one)"
      ;;
  esac
done

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
  ! has_ctrl "$ARCH_IN" || die "uname -m printed something unexpected: pass --arch amd64|arm64"
  ARCH=$(normalize_arch "$ARCH_IN") || die "unsupported architecture '$ARCH_IN' (uname -m): releases exist for amd64 and arm64 only; pass --arch to override"
fi

# pin_of P ASSET [UNNAMED]: the checksum pinned for provider P's ASSET ("" when none; an error when
# two pins that apply disagree); an unnamed pin applies unless UNNAMED is 0.
pin_of() {
  pf_hash=""
  for pf_key in "$1" "$2" '*'; do
    [ "$pf_key" != '*' ] || [ "${3:-1}" -ne 0 ] || continue
    if pf_v=$(map_get "$PINS" "$pf_key"); then
      [ -z "$pf_hash" ] || [ "$pf_hash" = "$pf_v" ] || die "the --sha256 pins for $2 disagree"
      pf_hash=$pf_v
    fi
  done
  printf '%s\n' "$pf_hash"
}

RETRIES=${INSTALL_RETRIES:-3}
TIMEOUT=${INSTALL_TIMEOUT:-300}
case "$RETRIES" in '' | *[!0-9]* | 0) die "INSTALL_RETRIES must be a number of at least 1" ;; esac
case "$TIMEOUT" in '' | *[!0-9]* | 0) die "INSTALL_TIMEOUT must be a number of seconds" ;; esac

# ---- the CredentialProviderConfig --------------------------------------------------------------
# What each provider's entry holds, one item a line (the values hold no quote or backslash, so
# they go into YAML and JSON double-quoted strings as they are).
match_images_of() {
  case "$1" in
    ecr)
      cat <<'EOF'
*.dkr.ecr.*.amazonaws.com
*.dkr-ecr.*.on.aws
*.dkr.ecr.*.amazonaws.com.cn
*.dkr-ecr.*.on.amazonwebservices.com.cn
*.dkr.ecr-fips.*.amazonaws.com
*.dkr-ecr-fips.*.on.aws
*.dkr.ecr.*.c2s.ic.gov
*.dkr.ecr.*.sc2s.sgov.gov
*.dkr.ecr.*.cloud.adc-e.uk
*.dkr.ecr.*.csp.hci.ic.gov
*.dkr.ecr.*.amazonaws.eu
public.ecr.aws
ecr-public.aws.com
EOF
      ;;
    acr)
      cat <<'EOF'
*.azurecr.io
*.azurecr.cn
*.azurecr.de
*.azurecr.us
*.*.geo.azurecr.io
*.*.geo.azurecr.cn
*.*.geo.azurecr.de
*.*.geo.azurecr.us
EOF
      ;;
    gcp)
      cat <<'EOF'
container.cloud.google.com
gcr.io
*.gcr.io
*.pkg.dev
EOF
      ;;
  esac
}
cache_duration_of() {
  case "$1" in
    ecr) echo 12h ;;
    acr) echo 10m ;;
    gcp) echo 1m ;;
  esac
}
args_of() {
  case "$1" in
    acr) printf '%s\n' "$AZURE_CONFIG" ;;
    gcp) printf '%s\n' get-credentials --v=3 ;;
  esac
}

# The entries of --print-config, in the format --config's name asks for. (--config itself is
# edited by the simulator, which keeps the file's own format and everything else in it.)

# yaml_items: the lines of stdin as a YAML list of quoted strings, six spaces in.
yaml_items() {
  awk '{ printf "      - \"%s\"\n", $0 }'
}

render_yaml() {
  printf '# Written by kubelet-credential-providers install.sh: the entries of the providers it installs.\n'
  printf '# The kubelet reads it with --image-credential-provider-config and runs each provider named\n'
  printf '# here from its --image-credential-provider-bin-dir.\n'
  printf 'apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n'
  for p in $PROVIDERS; do
    printf '  - name: %s\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    matchImages:\n' "$(binary_of "$p")"
    match_images_of "$p" | yaml_items
    printf '    defaultCacheDuration: "%s"\n' "$(cache_duration_of "$p")"
    ry_args=$(args_of "$p")
    if [ -n "$ry_args" ]; then
      printf '    args:\n'
      printf '%s\n' "$ry_args" | yaml_items
    fi
  done
}

# json_items INDENT: the lines of stdin as JSON strings, one a line, comma-separated.
json_items() {
  awk -v ind="$1" '{ if (NR > 1) printf ",\n"; printf "%s\"%s\"", ind, $0 } END { if (NR > 0) printf "\n" }'
}

render_json() {
  printf '{\n  "apiVersion": "kubelet.config.k8s.io/v1",\n  "kind": "CredentialProviderConfig",\n  "providers": [\n'
  rj_first=1
  for p in $PROVIDERS; do
    if [ "$rj_first" -eq 1 ]; then rj_first=0; else printf ',\n'; fi
    printf '    {\n      "name": "%s",\n      "apiVersion": "credentialprovider.kubelet.k8s.io/v1",\n      "matchImages": [\n' "$(binary_of "$p")"
    match_images_of "$p" | json_items '        '
    printf '      ],\n      "defaultCacheDuration": "%s"' "$(cache_duration_of "$p")"
    rj_args=$(args_of "$p")
    if [ -n "$rj_args" ]; then
      printf ',\n      "args": [\n'
      printf '%s\n' "$rj_args" | json_items '        '
      printf '      ]'
    fi
    printf '\n    }'
  done
  printf '\n  ]\n}\n'
}

# render_config: JSON for a --config named *.json (the kubelet decides by content, people by name),
# YAML otherwise.
render_config() {
  case "$CONFIG_FILE" in
    *.json | *.JSON) render_json ;;
    *) render_yaml ;;
  esac
}


# json_str VALUE: VALUE as a JSON string. Every value was validated (no control characters), and
# none should hold a backslash or a quote; they are escaped all the same.
json_str() {
  js_v=$(replace_all "$1" "\\" "\\\\")
  js_v=$(replace_all "$js_v" '"' "\\\"")
  printf '"%s"' "$js_v"
}

# json_list: the lines of stdin as a JSON array of strings.
json_list() {
  jl_out=""
  while IFS= read -r jl_line || [ -n "$jl_line" ]; do
    jl_out="${jl_out:+$jl_out,}$(json_str "$jl_line")"
  done
  printf '[%s]' "$jl_out"
}

# entry_json P: provider P's entry of the CredentialProviderConfig, one JSON object on one line, for
# kubelet-credential-sim config set-provider --provider-json.
entry_json() {
  ej_out="{\"name\":$(json_str "$(binary_of "$1")"),\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\""
  ej_out="$ej_out,\"matchImages\":$(match_images_of "$1" | json_list)"
  ej_out="$ej_out,\"defaultCacheDuration\":$(json_str "$(cache_duration_of "$1")")"
  ej_args=$(args_of "$1")
  if [ -n "$ej_args" ]; then
    ej_out="$ej_out,\"args\":$(printf '%s\n' "$ej_args" | json_list)"
  fi
  printf '%s}\n' "$ej_out"
}

# ---- check every target before anything changes ------------------------------------------------------
# check_dir FLAG DIR: DIR is a writable directory, or can be made in the nearest directory that
# exists.
check_dir() {
  cd_d=$2
  while [ ! -e "$cd_d" ] && [ ! -L "$cd_d" ]; do cd_d=$(parent_of "$cd_d"); done
  [ -d "$cd_d" ] || die "$1 $2: $cd_d is not a directory"
  [ -w "$cd_d" ] || die "$1 $2: cannot write to $cd_d"
}
# first_missing DIR: the topmost directory of DIR's path that does not exist ("" when DIR does).
first_missing() {
  fm_d=$1
  fm_top=""
  while [ ! -e "$fm_d" ] && [ ! -L "$fm_d" ]; do
    fm_top=$fm_d
    fm_d=$(parent_of "$fm_d")
  done
  printf '%s\n' "$fm_top"
}

check_dir --bin-dir "$BIN_DIR"
# What this run puts into (or takes out of) the bin dir: the providers, and the simulator when asked.
BINARIES_OF_RUN=$PROVIDERS
if [ "$WITH_SIM" -eq 1 ]; then BINARIES_OF_RUN="${BINARIES_OF_RUN:+$BINARIES_OF_RUN }sim"; fi
TO_REMOVE=""
for p in $BINARIES_OF_RUN; do
  b=$(binary_of "$p")
  if [ "$UNINSTALL" -eq 1 ]; then
    # Only a regular file or a symlink of exactly that name is removed; anything else there is not
    # what this script installed, and is left alone (the whole run is refused before any change).
    if [ -L "$BIN_DIR/$b" ] || [ -f "$BIN_DIR/$b" ]; then
      TO_REMOVE="${TO_REMOVE:+$TO_REMOVE }$p"
    elif [ -e "$BIN_DIR/$b" ]; then
      die "refusing to remove $BIN_DIR/$b: it is not a regular file or a symlink"
    fi
  else
    [ ! -d "$BIN_DIR/$b" ] || [ -L "$BIN_DIR/$b" ] || die "$BIN_DIR/$b is a directory, not a file: remove it first"
  fi
done
if [ -n "$CONFIG_FILE" ]; then
  [ ! -d "$CONFIG_FILE" ] || die "--config $CONFIG_FILE is a directory: name a file in it (e.g. $CONFIG_FILE/credential-providers.yaml)"
  if [ -e "$CONFIG_FILE" ] || [ -L "$CONFIG_FILE" ]; then
    [ -f "$CONFIG_FILE" ] || die "--config $CONFIG_FILE is not a regular file (nor a symlink to one): left alone"
  fi
  check_dir --config "$CFG_DIR"
fi
if [ "$RESTART_KUBELET" -eq 1 ] && ! have systemctl; then
  die "--restart-kubelet: systemctl not found: the kubelet can only be restarted on a systemd node; restart it yourself"
fi

# ---- tools -------------------------------------------------------------------------------------
# sha256_of FILE: the lowercase hex SHA-256 of FILE.
sha256_of() {
  if have sha256sum; then
    s_out=$(sha256sum -- "$1") || return 1
  elif have shasum; then
    s_out=$(shasum -a 256 -- "$1") || return 1
  elif have openssl; then
    s_out=$(openssl dgst -sha256 -- "$1") || return 1
    s_out=${s_out##*= }
  else
    die "no sha256sum, shasum or openssl found: cannot verify checksums"
  fi
  printf '%s\n' "${s_out%% *}" | tr 'A-F' 'a-f'
}

# tool_error FILE WHAT: the messages a downloader (or another tool) wrote to FILE, at most two, on
# one line: without the response headers (-S), progress lines and control characters; WHAT when
# there is none.
tool_error() {
  te_msg=$(awk '
    { gsub(/[[:cntrl:]]/, "") }
    /^[[:space:]]/ || $0 == "" { next }
    /^Connecting to / || /^(saving|writing) to / || / URL:/ || /written to / || /%.*\|/ { next }
    /^[a-z]+:\/\/[^ ]*:$/ { next }
    { sub(/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] /, "") }
    n < 2 { out = out (n ? "; " : "") $0; n++ }
    END { print out }
  ' "$1" 2>/dev/null) || :
  printf '%s\n' "${te_msg:-$2}"
}

# try WHAT COMMAND [ARG...]: run COMMAND (a fixed command of this script; the arguments are data),
# keeping its error messages; when it fails, stop with one line: "cannot WHAT: <its message>".
try() {
  try_what=$1
  shift
  "$@" 2>"$WORK_DIR/tool.err" || die "cannot $try_what: $(tool_error "$WORK_DIR/tool.err" "$1 failed")"
}

# The downloader: curl, else wget (GNU or busybox). curl enforces HTTPS itself; wget cannot (GNU
# wget's --https-only applies to recursive downloads only, busybox wget has no such option and
# always follows redirects), so the redirects wget reports with -S are checked after it ran, and a
# download that went through a non-HTTPS URL is thrown away unread.
DOWNLOADER=""
pick_downloader() {
  if have curl; then
    DOWNLOADER=curl
  elif have wget; then
    pd_help=$(wget --help 2>&1) || :
    case "$pd_help" in
      *BusyBox*)
        # busybox wget has -T only when built with it (Debian's crashes on an unknown -T).
        case "$pd_help" in
          *"-T SEC"*) DOWNLOADER=busybox-wget-T ;;
          *) DOWNLOADER=busybox-wget ;;
        esac
        ;;
      *) DOWNLOADER=gnu-wget ;;
    esac
  else
    die "neither curl nor wget found: cannot download from $SOURCE_TEMPLATE"
  fi
}

# redirect_off_https URL HEADERS: print the first redirect target (a Location header in HEADERS,
# in order) after which the download is no longer on HTTPS, and succeed; fail when there is none.
redirect_off_https() {
  ro_scheme=${1%%://*}
  ro_locs=$(awk 'tolower($1) == "location:" { sub(/\r$/, ""); print $2 }' "$2" 2>/dev/null) || :
  [ -n "$ro_locs" ] || return 1
  while IFS= read -r ro_loc; do
    case "$ro_loc" in
      [Hh][Tt][Tt][Pp][Ss]://*) ro_scheme=https ;;
      [A-Za-z]*://*) ro_scheme=other ;;
      *) ;; # relative: the scheme stays
    esac
    if [ "$ro_scheme" != https ]; then
      printf '%s\n' "$ro_loc" | tr -d '[:cntrl:]'
      return 0
    fi
  done <<EOF
$ro_locs
EOF
  return 1
}

# download URL FILE PINNED: fetch URL into FILE, with timeouts and retries; PINNED=1 when FILE is
# checked against a pinned checksum (the only case where a wget that cannot check TLS certificates
# is acceptable).
download() {
  dl_err="$WORK_DIR/download.err"
  dl_try=1
  while :; do
    dl_rc=0
    case "$DOWNLOADER" in
      curl)
        # -q: no ~/.curlrc; --proto: HTTPS only (plus HTTP with --allow-http); --proto-redir: every
        # redirect to HTTPS only. curl retries transient failures (timeouts, 429, 5xx) itself.
        curl -q -fsSL --proto "$CURL_PROTO" --proto-redir =https --connect-timeout 15 \
          --max-time "$TIMEOUT" --retry "$((RETRIES - 1))" --retry-delay 2 \
          -o "$2" "$1" 2>"$dl_err" || dl_rc=$?
        [ "$dl_rc" -ne 0 ] || return 0
        rm -f -- "$2"
        # Exit status 1 is an unsupported protocol: the URL itself was checked, so a redirect.
        [ "$dl_rc" -ne 1 ] || die "cannot download $1: it redirects to a URL that is not HTTPS ($(tool_error "$dl_err" "curl exit status 1"))"
        die "cannot download $1: $(tool_error "$dl_err" "curl exit status $dl_rc")"
        ;;
      gnu-wget) wget -nv -S --tries=1 -T 60 -O "$2" "$1" 2>"$dl_err" || dl_rc=$? ;;
      busybox-wget-T) wget -q -S -T 60 -O "$2" "$1" 2>"$dl_err" || dl_rc=$? ;;
      busybox-wget) wget -q -S -O "$2" "$1" 2>"$dl_err" || dl_rc=$? ;;
    esac
    if dl_to=$(redirect_off_https "$1" "$dl_err"); then
      rm -f -- "$2"
      die "cannot download $1: it redirects to $dl_to, which is not HTTPS: refused"
    fi
    if grep -q 'TLS certificate validation not implemented' "$dl_err" 2>/dev/null && [ "$3" -ne 1 ]; then
      rm -f -- "$2"
      die "cannot download $1 safely: this wget does not validate TLS certificates; install curl, or pin the checksums with --sha256"
    fi
    [ "$dl_rc" -ne 0 ] || return 0
    rm -f -- "$2"
    [ "$dl_try" -lt "$RETRIES" ] || die "cannot download $1: $(tool_error "$dl_err" "wget exit status $dl_rc")"
    sleep "$dl_try"
    dl_try=$((dl_try + 1))
  done
}

# fetch SOURCE NAME FILE PINNED: copy or download SOURCE/NAME into FILE.
fetch() {
  case "$1" in
    http://* | https://*) download "${1%/}/$2" "$3" "$4" ;;
    *)
      [ -f "$1/$2" ] || die "asset $2 not found in $1"
      try "copy $1/$2" cp -- "$1/$2" "$3"
      ;;
  esac
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

# ---- 1. download and verify everything; nothing on the node changes ---------------------------------
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kcp-install.XXXXXX" 2>/dev/null) || die "cannot create a temporary directory in ${TMPDIR:-/tmp}"
if [ "$SOURCE_IS_URL" -eq 1 ] && { [ "$UNINSTALL" -eq 0 ] || [ "$NEED_SIM" -eq 1 ]; }; then
  pick_downloader
  case "$SOURCE_TEMPLATE" in
    http://*) warn "downloading over plain HTTP from $SOURCE_TEMPLATE (--allow-http): anyone on the way can change what arrives, SHA256SUMS included; pin the checksums with --sha256" ;;
  esac
fi

# expect_sha KEY ASSET SRC SUMS_OF UNNAMED: the checksum ASSET must have, into WANT (with HOW and
# PINNED): KEY's pin, else the entry of SRC's SHA256SUMS (fetched once per provider SUMS_OF).
WANT=""
HOW=""
PINNED=0
expect_sha() {
  WANT=$(pin_of "$1" "$2" "$5") || exit 1
  if [ -n "$WANT" ]; then
    HOW="pinned by --sha256"
    PINNED=1
    return 0
  fi
  HOW="verified against SHA256SUMS"
  PINNED=0
  es_sums="$WORK_DIR/$4.SHA256SUMS"
  [ -f "$es_sums" ] || fetch "$3" SHA256SUMS "$es_sums" 0
  WANT=$(expected_sha "$es_sums" "$2") || die "SHA256SUMS from $3 lists $2 more than once with different checksums"
  if [ -z "$WANT" ]; then
    [ "$1" != sim ] || die "SHA256SUMS from $3 has no entry for $2: this release does not ship $SIM_NAME, which $SIM_NEEDED_FOR needs; use a release that has it${SIM_HINT}"
    die "SHA256SUMS from $3 has no entry for $2: refusing to install an unverified binary"
  fi
  is_sha256 "$WANT" || die "SHA256SUMS from $3 has a malformed checksum for $2"
}

# installed_as KEY TARGET: TARGET is already the verified binary (WANT). Only a regular file is
# trusted as installed: a symlink (or anything else) is replaced.
installed_as() {
  [ -f "$2" ] && [ ! -L "$2" ] && [ -x "$2" ] && [ "$(sha256_of "$2")" = "$WANT" ]
}

# get_verified KEY SRC ASSET: ASSET from SRC into $WORK_DIR/KEY.bin, checked against WANT.
get_verified() {
  fetch "$2" "$3" "$WORK_DIR/$1.bin" "$PINNED"
  gv_got=$(sha256_of "$WORK_DIR/$1.bin") || die "cannot compute the checksum of $3"
  [ "$gv_got" = "$WANT" ] || die "checksum mismatch for $3 from $2: expected $WANT ($HOW), got $gv_got; nothing installed"
}

TO_INSTALL=""
PLAN=""
if [ "$UNINSTALL" -eq 0 ]; then
  for p in $PROVIDERS; do
    b=$(binary_of "$p")
    asset="$b-linux-$ARCH"
    src=$(source_of "$p")
    target="$BIN_DIR/$b"
    expect_sha "$p" "$asset" "$src" "$p" 1
    if installed_as "$p" "$target"; then
      PLAN="$PLAN$b: already installed at $target (sha256 $WANT, $HOW), unchanged
"
      continue
    fi
    get_verified "$p" "$src" "$asset"
    TO_INSTALL="${TO_INSTALL:+$TO_INSTALL }$p"
    PLAN="$PLAN$b: install $asset from $src at $target (sha256 $WANT, $HOW)
"
  done
fi

# The simulator: downloaded and verified like a provider, kept in WORK_DIR to edit the config, and
# installed only with --provider sim.
SIM=""
if [ "$NEED_SIM" -eq 1 ]; then
  asset="$SIM_NAME-linux-$ARCH"
  src=$(source_of "$SIM_FROM")
  if [ -n "$CONFIG_FILE" ]; then
    SIM_NEEDED_FOR="editing --config"
    SIM_HINT=", or run without --config (--print-config prints the entries) and edit the config yourself"
  else
    SIM_NEEDED_FOR="--provider sim"
    SIM_HINT=""
  fi
  # An unnamed --sha256 pins the simulator only when it is the one binary installed.
  if [ -z "$PROVIDERS" ] && [ "$UNINSTALL" -eq 0 ]; then sim_unnamed=1; else sim_unnamed=0; fi
  expect_sha sim "$asset" "$src" "$SIM_FROM" "$sim_unnamed"
  case "$src" in
    http://* | https://*) ;;
    *) [ -f "$src/$asset" ] || die "asset $asset not found in $src: this release does not ship $SIM_NAME, which $SIM_NEEDED_FOR needs; use a release that has it${SIM_HINT}" ;;
  esac
  target="$BIN_DIR/$SIM_NAME"
  if [ "$WITH_SIM" -eq 1 ] && [ "$UNINSTALL" -eq 0 ] && installed_as sim "$target"; then
    PLAN="$PLAN$SIM_NAME: already installed at $target (sha256 $WANT, $HOW), unchanged
"
    # Still needed to edit the config: a copy of the verified, installed one.
    [ -z "$CONFIG_FILE" ] || get_verified sim "$src" "$asset"
  else
    get_verified sim "$src" "$asset"
    if [ "$WITH_SIM" -eq 1 ] && [ "$UNINSTALL" -eq 0 ]; then
      TO_INSTALL="${TO_INSTALL:+$TO_INSTALL }sim"
      PLAN="$PLAN$SIM_NAME: install $asset from $src at $target (sha256 $WANT, $HOW)
"
    fi
  fi
  if [ -n "$CONFIG_FILE" ]; then
    SIM="$WORK_DIR/sim.bin"
    try "chmod $SIM" chmod 0755 "$SIM"
    # Run once before it matters, for a clear line when it cannot run here at all.
    sv_rc=0
    "$SIM" --version >/dev/null 2>"$WORK_DIR/sim.err" || sv_rc=$?
    [ "$sv_rc" -eq 0 ] ||
      die "cannot run $SIM_NAME ($asset) from $WORK_DIR, which edits --config: $(tool_error "$WORK_DIR/sim.err" "exit status $sv_rc") (is TMPDIR on a noexec file system, or --arch not this node's?)"
  fi
fi

# ---- the config: every edit made on a copy first; the file changes only once all have succeeded ------
# sim_config set|remove P FILE [FLAG...]: add (replace) or remove provider P's entry in FILE with the
# simulator: exit status in SIM_RC, its summary line in $WORK_DIR/sim.out, its refusal in sim.err.
SIM_RC=0
sim_config() {
  sc_op=$1
  sc_p=$2
  sc_file=$3
  shift 3
  if [ "$sc_op" = set ]; then
    # An entry the config already has keeps its args, env and tokenAttributes: the node's own
    # settings of that provider (identity bindings' --ib-* flags, a service account audience),
    # which every upstream flag keeps meaning with our binaries.
    set -- config set-provider --config "$sc_file" --provider-json "$(entry_json "$sc_p")" --keep-settings "$@"
    if [ "$FORCE" -eq 1 ]; then set -- "$@" --force; fi
  else
    set -- config remove-provider --config "$sc_file" --name "$(binary_of "$sc_p")" "$@"
    if [ "$ALLOW_EMPTY" -eq 1 ]; then set -- "$@" --allow-empty; fi
  fi
  SIM_RC=0
  "$SIM" "$@" >"$WORK_DIR/sim.out" 2>"$WORK_DIR/sim.err" || SIM_RC=$?
}

# sim_refused P: stop with the simulator's refusal, on one line, naming --config rather than the copy.
sim_refused() {
  sr_msg=$(tool_error "$WORK_DIR/sim.err" "$SIM_NAME exit status $SIM_RC")
  sr_msg=$(replace_all "${sr_msg#"$SIM_NAME: "}" "$PREVIEW" "$CONFIG_FILE")
  if [ "$UNINSTALL" -eq 1 ]; then
    case "$sr_msg" in
      *"the last provider of"*)
        die "cannot remove $(binary_of "$1") from $CONFIG_FILE: $sr_msg; to uninstall the last provider, remove the kubelet's credential-provider flags (--image-credential-provider-config, --image-credential-provider-bin-dir) instead, or pass --allow-empty to install.sh"
        ;;
    esac
    die "cannot remove $(binary_of "$1") from $CONFIG_FILE: $sr_msg"
  fi
  die "cannot add $(binary_of "$1") to $CONFIG_FILE: $sr_msg"
}

# sim_summary: the simulator's last line on stdout (what it did), naming --config rather than the copy.
sim_summary() {
  ss_last=""
  while IFS= read -r ss_line || [ -n "$ss_line" ]; do ss_last=$ss_line; done <"$WORK_DIR/sim.out"
  replace_all "$ss_last" "$PREVIEW" "$CONFIG_FILE"
}

# print_sim_diff: the diff of a --dry-run of the simulator (its output but the summary line), with
# the copy's name in the two header lines replaced by --config's.
print_sim_diff() {
  pd_prev=""
  pd_have=0
  pd_head=1
  while IFS= read -r pd_line || [ -n "$pd_line" ]; do
    if [ "$pd_have" -eq 1 ]; then
      if [ "$pd_head" -eq 1 ]; then
        case "$pd_prev" in
          "@@"*) pd_head=0 ;;
          "--- $PREVIEW") pd_prev="--- $CONFIG_FILE" ;;
          "+++ $PREVIEW") pd_prev="+++ $CONFIG_FILE" ;;
        esac
      fi
      printf '%s\n' "$pd_prev"
    fi
    pd_prev=$pd_line
    pd_have=1
  done <"$WORK_DIR/sim.out"
}

# log_plan PREFIX INSTALLED: log each line of PLAN after PREFIX, its "install" turned into INSTALLED.
log_plan() {
  while IFS= read -r lp_line; do
    case "$lp_line" in
      *": install "*) log "$1${lp_line%%: install *}: $2 ${lp_line#*: install }" ;;
      ?*) log "$1$lp_line" ;;
    esac
  done <<EOF
$PLAN
EOF
}

if [ "$UNINSTALL" -eq 1 ]; then CONFIG_OP="remove"; else CONFIG_OP="set"; fi
PREVIEW=""
CONFIG_CHANGED=0
if [ -n "$CONFIG_FILE" ]; then
  # The copy keeps the file's name: the simulator picks the format by name, then by content.
  try "create a directory in $WORK_DIR" mkdir -- "$WORK_DIR/preview"
  PREVIEW="$WORK_DIR/preview/${CONFIG_FILE##*/}"
  if [ -e "$CONFIG_FILE" ]; then try "read $CONFIG_FILE" cp -- "$CONFIG_FILE" "$PREVIEW"; fi
  for p in $PROVIDERS; do
    if [ "$DRY_RUN" -eq 1 ]; then
      sim_config "$CONFIG_OP" "$p" "$PREVIEW" --dry-run
      [ "$SIM_RC" -eq 0 ] || sim_refused "$p"
      print_sim_diff
      log "dry run: config: $(sim_summary)"
    fi
    sim_config "$CONFIG_OP" "$p" "$PREVIEW" --backup-dir "$WORK_DIR/backups"
    [ "$SIM_RC" -eq 0 ] || sim_refused "$p"
  done
  if [ -e "$CONFIG_FILE" ]; then
    cmp -s -- "$PREVIEW" "$CONFIG_FILE" || CONFIG_CHANGED=1
  elif [ -e "$PREVIEW" ]; then
    CONFIG_CHANGED=1
  fi
fi

RESTART_NOTE="the kubelet reads $CONFIG_FILE only when it starts: restart it to apply the change (systemctl restart kubelet on systemd nodes, or run this with --restart-kubelet)"

# ---- --dry-run: say what would change, change nothing -----------------------------------------------
if [ "$DRY_RUN" -eq 1 ]; then
  log_plan "dry run: " "would install"
  for p in $BINARIES_OF_RUN; do
    [ "$UNINSTALL" -eq 1 ] || break
    b=$(binary_of "$p")
    case " $TO_REMOVE " in
      *" $p "*) log "dry run: $b: would remove $BIN_DIR/$b" ;;
      *) log "dry run: $b: not installed in $BIN_DIR, nothing to remove" ;;
    esac
  done
  if [ -n "$CONFIG_FILE" ]; then
    if [ "$CONFIG_CHANGED" -eq 0 ]; then
      log "dry run: config $CONFIG_FILE: unchanged"
    else
      log "dry run: would change $CONFIG_FILE as shown; $RESTART_NOTE"
    fi
  fi
  if [ "$PRINT_CONFIG" -eq 1 ]; then render_config; fi
  exit 0
fi

# ---- 2. stage every binary next to its target -----------------------------------------------------
if [ -n "$TO_INSTALL" ]; then
  CREATED_BIN_TOP=$(first_missing "$BIN_DIR")
  try "create the bin dir $BIN_DIR" mkdir -p -- "$BIN_DIR"
  STAGE_BIN=$(mktemp -d "$BIN_DIR/.install.XXXXXX" 2>"$WORK_DIR/tool.err") ||
    die "cannot create a temporary directory in $BIN_DIR: $(tool_error "$WORK_DIR/tool.err" "mktemp failed")"
  for p in $TO_INSTALL; do
    b=$(binary_of "$p")
    try "copy $b into $BIN_DIR" cp -- "$WORK_DIR/$p.bin" "$STAGE_BIN/$b"
    try "chmod $STAGE_BIN/$b" chmod 0755 "$STAGE_BIN/$b"
    cmp -s -- "$WORK_DIR/$p.bin" "$STAGE_BIN/$b" || die "the copy of $b in $BIN_DIR differs from the verified download: nothing installed"
  done
fi

# update_config: the edits, now on the file itself (atomically, by the simulator). The first edit
# that changes it keeps the backup of the original next to it; the later ones' backups (of this
# run's own intermediate states) go to the work dir and away with it.
update_config() {
  [ "$CONFIG_CHANGED" -eq 1 ] || return 0
  CREATED_CFG_TOP=$(first_missing "$CFG_DIR")
  try "create the config directory $CFG_DIR" mkdir -p -- "$CFG_DIR"
  uc_backed_up=0
  PREVIEW=""
  for p in $PROVIDERS; do
    if [ "$uc_backed_up" -eq 0 ]; then
      sim_config "$CONFIG_OP" "$p" "$CONFIG_FILE"
    else
      sim_config "$CONFIG_OP" "$p" "$CONFIG_FILE" --backup-dir "$WORK_DIR/backups"
    fi
    [ "$SIM_RC" -eq 0 ] || sim_refused "$p"
    uc_line=$(sim_summary)
    # The backup of an intermediate state goes away with the work dir: not worth a mention.
    uc_line=${uc_line%" (backup: $WORK_DIR/backups/"*}
    case "$uc_line" in
      *"; backup: $WORK_DIR/backups/"*) uc_line="${uc_line%"; backup: $WORK_DIR/backups/"*})" ;;
    esac
    case "$uc_line" in
      unchanged:*) ;;
      *) uc_backed_up=1 ;;
    esac
    log "config: $uc_line"
  done
}

# ---- 3. put everything in place ----------------------------------------------------------------------
if [ "$UNINSTALL" -eq 1 ]; then
  # The entries go first: a kubelet (re)starting meanwhile must not find an entry without its binary.
  update_config
  for p in $BINARIES_OF_RUN; do
    b=$(binary_of "$p")
    case " $TO_REMOVE " in
      *" $p "*)
        if [ -L "$BIN_DIR/$b" ] || [ -f "$BIN_DIR/$b" ]; then
          try "remove $BIN_DIR/$b" rm -f -- "$BIN_DIR/$b"
          log "$b: removed $BIN_DIR/$b"
        fi
        ;;
      *) log "$b: not installed in $BIN_DIR, nothing to remove" ;;
    esac
  done
else
  # Renames only; the binaries go first: an entry must not name a binary that is not there yet.
  for p in $TO_INSTALL; do
    b=$(binary_of "$p")
    # A rename replaces a symlink, except one to a directory, which mv would move the file into.
    if [ -L "$BIN_DIR/$b" ] && [ -d "$BIN_DIR/$b" ]; then try "remove the symlink $BIN_DIR/$b" rm -f -- "$BIN_DIR/$b"; fi
    try "move $b into place at $BIN_DIR/$b" mv -f -- "$STAGE_BIN/$b" "$BIN_DIR/$b"
  done
  log_plan "" installed
  update_config
fi
if [ -n "$CONFIG_FILE" ] && [ "$CONFIG_CHANGED" -eq 0 ]; then log "config $CONFIG_FILE: unchanged"; fi

if [ "$PRINT_CONFIG" -eq 1 ]; then render_config; fi

# ---- 4. the kubelet reads its config only when it starts ----------------------------------------------
if [ "$CONFIG_CHANGED" -eq 1 ]; then
  if [ "$RESTART_KUBELET" -eq 1 ]; then
    log "restarting the kubelet (systemctl restart kubelet) to read $CONFIG_FILE"
    sc_rc=0
    systemctl restart kubelet 2>"$WORK_DIR/systemctl.err" || sc_rc=$?
    [ "$sc_rc" -eq 0 ] ||
      die "the config is in place, but systemctl restart kubelet failed: $(tool_error "$WORK_DIR/systemctl.err" "exit status $sc_rc"); restart the kubelet yourself"
  else
    log "$RESTART_NOTE"
  fi
elif [ "$RESTART_KUBELET" -eq 1 ]; then
  log "config $CONFIG_FILE unchanged: the kubelet is not restarted"
fi
