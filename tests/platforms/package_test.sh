#!/bin/bash
# The Linux packages as a clinic would install them: CPack builds
# charta-server and charta-tablet from this build, dpkg installs both into a
# throwaway root (maintainer scripts run chrootless, honouring DPKG_ROOT),
# the installed files are checked (dpkg --verify, the unit with
# systemd-analyze verify, the desktop entry), and the installed server, run
# with its installed settings, syncs a charta-sim device (also installed).
#
# usage: package_test.sh BUILD_DIR WORK_DIR
set -euo pipefail
set -E
trap 'echo "package_test: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

build=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
step() { echo "package_test: $*"; }

step "building the packages with CPack"
(cd "$build" && cpack -G DEB -B "$work/pkg" > "$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack"; }
server_deb=$(ls "$work"/pkg/charta-server_*.deb)
tablet_deb=$(ls "$work"/pkg/charta-tablet_*.deb)

for deb in "$server_deb" "$tablet_deb"; do
  dpkg-deb --info "$deb" > "$work/info.txt"
  grep -q '^ Depends: .*libsodium' "$work/info.txt" || fail "$(basename "$deb") does not depend on libsodium"
done
dpkg-deb --info "$server_deb" | grep '^ Depends: adduser' > /dev/null || fail "charta-server must depend on adduser"
dpkg-deb --info "$tablet_deb" | grep 'qml6-module-qtquick-controls' > /dev/null || fail "charta-tablet lacks its QML modules"

step "installing both into a throwaway root"
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
# Dependencies are the host's (the root holds only these two packages).
dpkg --root="$root" --force-script-chrootless --force-depends --force-not-root --log=/dev/null \
  -i "$server_deb" "$tablet_deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
for p in charta-server charta-tablet; do
  dpkg --root="$root" -s "$p" | grep '^Status: install ok installed' > /dev/null || fail "$p is not installed"
done
dpkg --root="$root" --verify charta-server charta-tablet || fail "installed files differ from the packages"
for f in usr/bin/charta-server usr/bin/charta-sim usr/bin/charta-tablet; do
  [ -x "$root/$f" ] || fail "$f missing or not executable"
done
unit=""
for u in "$root/usr/lib/systemd/system/charta-server.service" "$root/lib/systemd/system/charta-server.service"; do
  if [ -f "$u" ]; then unit=$u; fi
done
[ -n "$unit" ] || fail "no systemd unit"
[ "$(stat -c %a "$root/etc/charta/server.conf")" = 640 ] || fail "/etc/charta/server.conf should be 0640"
grep -q '^/etc/charta/server.conf$' "$root/var/lib/dpkg/info/charta-server.conffiles" ||
  fail "server.conf is not a conffile"
grep -q '^Exec=charta-tablet$' "$root/usr/share/applications/charta-tablet.desktop" || fail "desktop entry"
[ -f "$root/usr/share/icons/hicolor/scalable/apps/charta-tablet.svg" ] || fail "icon"
if command -v desktop-file-validate > /dev/null; then
  desktop-file-validate "$root/usr/share/applications/charta-tablet.desktop" || fail "desktop entry does not validate"
fi

if command -v systemd-analyze > /dev/null; then
  step "systemd-analyze verify"
  # The unit names /usr/bin/charta-server, which is in the root, not on this
  # machine: a copy naming the root's binary is verified.
  mkdir -p "$work/unit"
  sed "s|^ExecStart=/usr/bin/charta-server|ExecStart=$root/usr/bin/charta-server|" "$unit" \
    > "$work/unit/charta-server.service"
  systemd-analyze verify --man=no "$work/unit/charta-server.service" > "$work/verify.log" 2>&1 ||
    { cat "$work/verify.log" >&2; fail "systemd-analyze verify"; }
  if [ -s "$work/verify.log" ]; then cat "$work/verify.log" >&2; fail "systemd-analyze verify printed warnings"; fi
  step "unit sandboxing exposure: $(systemd-analyze security --offline=yes "$work/unit/charta-server.service" 2>/dev/null |
    grep -o 'Overall exposure level.*' || echo 'not reported')"
else
  step "systemd-analyze is not installed here: unit not verified"
fi
grep -q '^ExecStart=/usr/bin/charta-server serve --config /etc/charta/server.conf$' "$unit" || fail "ExecStart"
for opt in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes StateDirectory=charta User=charta; do
  grep -q "^$opt\$" "$unit" || fail "unit lacks $opt"
done

step "running the installed server with its installed settings"
data="$root/var/lib/charta"
mkdir -p "$data"
conf="$root/etc/charta/server.conf"
srv="$root/usr/bin/charta-server"
sim="$root/usr/bin/charta-sim"
# Only the data folder and the port differ from the installed settings (this
# is not the real /var/lib and the port must be free).
"$srv" admin create-clinic north "North clinic" --config "$conf" --data "$data" > /dev/null
(umask 077 && echo "package-test-pass" > "$work/pass")
"$srv" admin create-user nurse --role nurse --clinic north --password-file "$work/pass" --config "$conf" \
  --data "$data" > /dev/null
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; fi; }
trap cleanup EXIT
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  "$srv" serve --config "$conf" --data "$data" --listen "127.0.0.1:$port" > "$work/server.log" 2>&1 &
  pid=$!
  up=""
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2> /dev/null; then break; fi
    if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then up=1; break; fi
    sleep 0.1
  done
  [ -n "$up" ] && break
  cleanup
  pid=""
done
[ -n "$pid" ] || { cat "$work/server.log" >&2; fail "the installed server did not start"; }

step "a charta-sim device enrols, charts and syncs through it (port $port)"
code=$("$srv" admin issue-code north --config "$conf" --data "$data") || fail "issue a code"
tablet="$work/tablet"
"$sim" enroll --server "http://127.0.0.1:$port" --code "$code" --data "$tablet" --user nurse \
  --passphrase-file "$work/pass" --kdf minimum > /dev/null || fail "enrol"
"$sim" edit --data "$tablet" --random 40 --seed 7 > /dev/null || fail "edit"
"$sim" sync --data "$tablet" > "$work/sync.log" || { cat "$work/sync.log" >&2; fail "sync"; }
"$sim" sync --data "$tablet" > /dev/null || fail "second sync"
# A second device pulls the charts: both hold the same state.
code2=$("$srv" admin issue-code north --config "$conf" --data "$data") || fail "issue a second code"
"$sim" enroll --server "http://127.0.0.1:$port" --code "$code2" --data "$work/tablet2" --user nurse \
  --passphrase-file "$work/pass" --kdf minimum > /dev/null || fail "enrol a second device"
"$sim" sync --data "$work/tablet2" > /dev/null || fail "sync of the second device"
first=$("$sim" state-hash --data "$tablet") || fail "state-hash of the first device"
second=$("$sim" state-hash --data "$work/tablet2") || fail "state-hash of the second device"
[ -n "$first" ] && [ "$first" = "$second" ] || fail "the devices differ after syncing: $first vs $second"
devices=$("$srv" admin list-devices --clinic north --config "$conf" --data "$data") || fail "list devices"
[ "$(echo "$devices" | grep -o '"id":"dev-' | wc -l)" = 2 ] || { echo "$devices" >&2; fail "two devices expected"; }
cleanup
pid=""
trap - EXIT
"$srv" audit verify --config "$conf" --data "$data" > /dev/null || fail "audit chain of the installed server"
step "ok"
