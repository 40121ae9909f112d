#!/bin/sh
# Checks scripts/systemd/sankofa-agent.service with `systemd-analyze verify`.
# The unit names /usr/bin/sankofa-agent; verify needs the executable to exist, so a copy of the
# unit pointing at the built binary is checked (pass its path, default target/debug).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-"$here/../../target/debug/sankofa-agent"}
[ -x "$bin" ] || { echo "build the agent first: cargo build -p sankofa-agent (or pass the binary)" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing: apt-get install systemd" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#/usr/bin/sankofa-agent#$(readlink -f "$bin")#g" "$here/sankofa-agent.service" > "$tmp/sankofa-agent.service"
systemd-analyze verify "$tmp/sankofa-agent.service"
echo "sankofa-agent.service: ok"
