#!/bin/sh
# Install what building, testing and the demo need, when it is missing.
# Debian packages only; needs root (or sudo) only when something is missing.
set -e
pkgs="build-essential libconfuse-dev libpcre2-dev bats bats-assert bats-support php8.2-fpm php8.2-cli curl python3 clang libclang-rt-14-dev nginx wrk gnuplot-nox"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "missing packages:$missing (run as root or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Tests, the demo and the benchmark start their own php-fpm pools (and nginx);
# the distribution's services (if a package starts one) are not used.
$sudo apt-get install -y -qq $missing
