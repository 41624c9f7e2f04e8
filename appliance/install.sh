#!/usr/bin/env bash
# Turns a Debian 12 machine into a kiosk (docs/INSTALL.md walks through it).
#
#   appliance/install.sh [--root DIR] [--no-apt] [--no-venv] [--updates] [--packages "P ..."]
#
# It creates the user `kiosk`, the folders (/etc/kiosk 0750 root:kiosk, /var/lib/kiosk 0700
# kiosk:kiosk, /opt/kiosk/releases for application releases with /opt/kiosk/current the one
# that runs), copies this checkout as a release and builds its virtualenv, installs the
# compositor session (kiosk-session.service, weston.ini, the auto-login PAM file), the kiosk's
# unit, the udev rules for readers and printers, enables both units on tty1 and makes the
# graphical target the default. It never installs vsmartcard: the virtual reader is for tests.
#
# --root DIR  install into DIR instead of / (a chroot or a throwaway folder). Packages are
#             then not installed, the venv only if DIR has a python3 to chroot into, and the
#             queue key credential is not sealed (it belongs to the kiosk's own TPM or host key).
# --no-apt    do not install Debian packages;  --no-venv  do not build the release's venv.
# --updates   run the kiosk under the update guard (kiosk.service.d/update-guard.conf, issue
#             #15, docs/UPDATES.md); then set [updates] enabled = true in /etc/kiosk/kiosk.toml.
set -euo pipefail

ROOT=/
APT=1
VENV=1
UPDATES=0
EXTRA_PACKAGES=""
SRC=$(cd "$(dirname "$0")/.." && pwd)
HERE="$SRC/appliance"
# What a kiosk needs from Debian: Python, the compositor, PC/SC, the voice, the CJK font,
# systemd-creds for the queue key. No vsmartcard-vpcd: never on a kiosk.
PACKAGES="python3 python3-venv weston pcscd espeak-ng alsa-utils fonts-noto-cjk
libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libwayland-client0 libzbar0 systemd dbus"

die() { echo "install.sh: $*" >&2; exit "${2:-1}"; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a folder}; shift 2 ;;
    --no-apt) APT=0; shift ;;
    --no-venv) VENV=0; shift ;;
    --updates) UPDATES=1; shift ;;
    --packages) EXTRA_PACKAGES=${2:?--packages needs a list}; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" 2 ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run as root"
ROOT=$(cd "$ROOT" && pwd)
R=${ROOT%/}  # prefix for paths: "" for /

refuse_vsmartcard() {
  local p
  for p in $EXTRA_PACKAGES; do
    case "$p" in vsmartcard*|*vpcd*) die "refusing to install $p: the virtual smart-card reader is for tests only, never on a kiosk" 3 ;; esac
  done
  if [ -f "$R/var/lib/dpkg/status" ] && grep -q '^Package: vsmartcard-vpcd$' "$R/var/lib/dpkg/status" \
     && awk '/^Package: vsmartcard-vpcd$/{f=1} f&&/^Status:/{print; exit}' "$R/var/lib/dpkg/status" | grep -q 'install ok installed'; then
    die "vsmartcard-vpcd is installed in $ROOT: purge it first (apt-get purge vsmartcard-vpcd); a kiosk must not offer a virtual reader" 3
  fi
}

install_packages() {
  if [ "$APT" -eq 0 ] || [ "$ROOT" != / ]; then
    say "not installing Debian packages ($PACKAGES $EXTRA_PACKAGES)"
    return
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $PACKAGES $EXTRA_PACKAGES
}

has_group() { grep -q "^$1:" "$R/etc/group"; }
# Numeric ids from the target's own files (a --root target's users are not the host's).
kiosk_uid() { awk -F: '$1=="kiosk"{print $3}' "$R/etc/passwd"; }
kiosk_gid() { awk -F: '$1=="kiosk"{print $3}' "$R/etc/group"; }

create_user() {
  if ! grep -q '^kiosk:' "$R/etc/passwd"; then
    useradd --root "$ROOT" --system --user-group --home-dir /var/lib/kiosk --no-create-home \
      --shell /usr/sbin/nologin --comment "village kiosk" kiosk
    say "user kiosk created"
  fi
  local g
  for g in video input render audio; do
    if has_group "$g"; then usermod --root "$ROOT" -a -G "$g" kiosk; fi
  done
}

make_folders() {
  install -d -m 0755 -o 0 -g 0 "$R/etc" "$R/opt/kiosk" "$R/opt/kiosk/releases" \
    "$R/etc/systemd/system" "$R/etc/udev/rules.d" "$R/etc/pam.d"
  install -d -m 0750 -o 0 -g "$(kiosk_gid)" "$R/etc/kiosk"
  install -d -m 0700 -o "$(kiosk_uid)" -g "$(kiosk_gid)" "$R/var/lib/kiosk"
  chmod 0700 "$R/var/lib/kiosk"  # an older, looser folder is tightened too
}

release_name() {
  local version rev
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$SRC/pyproject.toml" | head -1)
  rev=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)
  echo "${version:-0}-$rev"
}

install_release() {
  local name dest
  name=$(release_name)
  dest="$R/opt/kiosk/releases/$name"
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$SRC" archive --format=tar HEAD | tar -x -C "$dest.new"
  else
    tar -C "$SRC" --exclude=.venv --exclude=.git -cf - . | tar -x -C "$dest.new"
  fi
  rm -rf "$dest" && mv "$dest.new" "$dest"
  chown -R root:root "$dest" && chmod -R go-w "$dest"
  build_venv "/opt/kiosk/releases/$name"
  ln -sfn "releases/$name" "$R/opt/kiosk/current"
  say "release $name installed as /opt/kiosk/current"
}

build_venv() {
  local rel=$1 run=()
  [ "$VENV" -eq 1 ] || { say "no venv built (--no-venv)"; return; }
  if [ "$ROOT" != / ]; then
    [ -x "$R/usr/bin/python3" ] || { say "no python3 in $ROOT: no venv built"; return; }
    run=(chroot "$ROOT")
  fi
  "${run[@]}" python3 -m venv "$rel/.venv"
  "${run[@]}" "$rel/.venv/bin/pip" install -q "$rel"
}

install_files() {
  install -m 0644 -o 0 -g 0 "$HERE/kiosk.service" "$HERE/kiosk-session.service" \
    "$R/etc/systemd/system/"
  install -m 0644 -o 0 -g 0 "$HERE/70-kiosk-devices.rules" "$R/etc/udev/rules.d/"
  install -m 0644 -o 0 -g 0 "$HERE/kiosk-autologin.pam" "$R/etc/pam.d/kiosk-autologin"
  install -m 0644 -o 0 -g 0 "$HERE/weston.ini" "$R/etc/kiosk/weston.ini"
  if [ "$UPDATES" -eq 1 ]; then  # the guard (base install, never a slot) starts the kiosk
    install -d -m 0755 -o 0 -g 0 "$R/etc/systemd/system/kiosk.service.d"
    install -m 0644 -o 0 -g 0 "$HERE/kiosk-update-guard.conf" \
      "$R/etc/systemd/system/kiosk.service.d/update-guard.conf"
    say "updates: set [updates] enabled = true in /etc/kiosk/kiosk.toml"
  fi
  if [ ! -e "$R/etc/kiosk/kiosk.toml" ]; then  # never overwrite a kiosk's own configuration
    install -m 0640 -o 0 -g "$(kiosk_gid)" "$SRC/config/kiosk.example.toml" "$R/etc/kiosk/kiosk.toml"
    say "edit /etc/kiosk/kiosk.toml (kiosk id, central, devices, service point)"
  fi
}

enable_units() {
  local sc=(systemctl)
  [ "$ROOT" = / ] || sc=(systemctl --root="$ROOT")
  [ "$ROOT" = / ] && systemctl daemon-reload
  "${sc[@]}" enable kiosk-session.service kiosk.service
  "${sc[@]}" mask getty@tty1.service  # nothing else on the kiosk's console
  "${sc[@]}" set-default graphical.target
  if [ "$ROOT" = / ]; then
    udevadm control --reload-rules && udevadm trigger || true
  fi
}

seal_queue_key() {
  local cred="$R/etc/kiosk/queue-key.cred"
  [ -e "$cred" ] && return
  if [ "$ROOT" != / ]; then
    say "queue key not sealed: on the kiosk run the systemd-creds step of docs/INSTALL.md"
    return
  fi
  local key
  key=$(mktemp /run/kiosk-queue-key.XXXXXX)
  if [ -f /var/lib/kiosk/queue.key ]; then cp /var/lib/kiosk/queue.key "$key"
  else head -c 32 /dev/urandom > "$key"; fi
  systemd-creds encrypt --with-key=auto --name=queue-key "$key" "$cred"
  shred -u "$key"
  chmod 0600 "$cred"
  say "queue key sealed into /etc/kiosk/queue-key.cred"
}

refuse_vsmartcard
install_packages
create_user
make_folders
install_release
install_files
seal_queue_key
enable_units
say "done: reboot to start the kiosk on tty1"
