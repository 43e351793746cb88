#!/bin/sh
# Install what building, testing and the demo need, when it is missing.
# Debian packages (needs root, or sudo, only when something is missing),
# and playwright-core from npm into build/node/ (the build's own folder).
set -e
pkgs="build-essential libconfuse-dev libpcre2-dev libc-ares-dev liburing-dev haproxy dnsmasq-base bind9-dnsutils iproute2 bats bats-assert bats-support php8.2-fpm php8.2-cli curl python3 clang libclang-rt-14-dev nginx wrk gnuplot-nox"
# t/80-apps.bats: the applications, their database and PHP extensions, and
# the browser that drives them.  Without their recommendations: those
# would add systemd, avahi and a desktop, none of which a test uses.
# make bench's peers (t/bench/peers.py), without their recommendations
bench_pkgs="caddy apache2 lighttpd h2o"
app_pkgs="$bench_pkgs wordpress wordpress-theme-twentytwentythree dokuwiki mariadb-server chromium php8.2-mysql php8.2-gd php8.2-xml php8.2-intl php8.2-curl php8.2-mbstring"
command -v npm >/dev/null 2>&1 || app_pkgs="$app_pkgs nodejs npm"
PLAYWRIGHT=playwright-core@1.65.1

cd "$(dirname "$0")/.."

missing_of() {
	out=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || out="$out $p"
	done
	echo "$out"
}

# shellcheck disable=SC2086
missing="$(missing_of $pkgs)"
# shellcheck disable=SC2086
missing_apps="$(missing_of $app_pkgs)"
if [ -n "$missing$missing_apps" ]; then
	echo "installing:$missing$missing_apps"
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "missing packages:$missing$missing_apps (run as root or install them)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Tests, the demo and the benchmark start their own servers (php-fpm,
	# nginx, MariaDB) in temp dirs; the distribution's services must not
	# start during the install (mariadb-server and apache2 would): a
	# policy-rc.d that refuses every start, for the install only, unless
	# the machine already has one.
	policy=/usr/sbin/policy-rc.d
	own_policy=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
		$sudo chmod 755 "$policy"
		own_policy=1
		trap '$sudo rm -f "$policy"' EXIT
	fi
	$sudo apt-get update -qq
	[ -z "$missing" ] || $sudo apt-get install -y -qq $missing
	[ -z "$missing_apps" ] ||
	    $sudo apt-get install -y -qq --no-install-recommends $missing_apps
	if [ -n "$own_policy" ]; then
		$sudo rm -f "$policy"
		trap - EXIT
	fi
fi

# Playwright's library only (no browser download: it drives Debian's
# chromium), in a folder of the build, never system-wide.
if [ ! -f build/node/node_modules/playwright-core/package.json ]; then
	mkdir -p build/node
	npm install --prefix build/node --no-audit --no-fund --no-save \
	    "$PLAYWRIGHT" >/dev/null
fi
