# Sourced by ./run and ./test: installs the Debian packages ferry needs, only
# those missing, with one apt-get update. Needs root (or sudo) when something
# is missing; does nothing when all are present.
FERRY_PACKAGES=(
  g++ cmake ninja-build pkg-config
  liburing-dev libxxhash-dev libzstd-dev libtbb-dev librsync-dev
  libgtest-dev libbenchmark-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  libtomlplusplus-dev libsqlite3-dev libssl-dev
  rsync rdiff xxhash attr acl time python3 dovecot-imapd groff-base
)

ferry_ensure_deps() {
  local missing=() p
  for p in "${FERRY_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "ferry: installing missing packages: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
