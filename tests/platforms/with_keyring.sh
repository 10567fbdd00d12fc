#!/bin/bash
# Runs a command in a private D-Bus session that offers the Secret Service:
# a GNOME Keyring daemon, its login keyring unlocked with a throwaway
# password, in a throwaway home. Everything goes when the command ends.
#
# usage: with_keyring.sh COMMAND [ARGS...]
set -euo pipefail
command -v dbus-run-session > /dev/null || { echo "with_keyring: dbus-run-session is not installed" >&2; exit 1; }
command -v gnome-keyring-daemon > /dev/null || { echo "with_keyring: gnome-keyring is not installed" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
status=0
HOME=$home XDG_DATA_HOME=$home/.local/share XDG_RUNTIME_DIR=$home dbus-run-session -- bash -c '
  eval "$(printf "throwaway-keyring-pass" | gnome-keyring-daemon --unlock --components=secrets)"
  "$@"' with_keyring "$@" || status=$?
exit $status
