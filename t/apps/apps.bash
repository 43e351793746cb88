# Set-up for t/80-apps.bats: real applications (WordPress, DokuWiki, a
# front controller) on MariaDB and php-fpm, behind the gateway the test is
# about, all in the test's temp dir and on loopback.  It installs nothing
# and writes nothing outside $T: the applications' code is copied from
# Debian's packages (/usr/share/wordpress, /usr/share/dokuwiki), with our
# own configuration files in the copies.
#
# APPS_GATEWAY=fcgate (the default) runs each application behind fcgate with
# its recipe from etc/recipes/; APPS_GATEWAY=nginx behind Debian's nginx
# with the application's own documented nginx configuration
# (t/apps/nginx/), so the same flows show what nginx does.

APPS="$REPO/t/apps"
APPS_GATEWAY="${APPS_GATEWAY:-fcgate}"
# APPS_RECIPES=DIR tries other fcgate recipes (a recipe being written).
APPS_RECIPES="${APPS_RECIPES:-$REPO/etc/recipes}"
# The PHP-FPM socket and the document roots as the recipes write them; the
# test puts its own in their place (apps_adapt).
APPS_DOC_SOCK=/run/php/php8.2-fpm.sock
NODE_MODULES="$REPO/build/node/node_modules"

# Every request of these tests is bounded: a gateway that hangs fails the
# test instead of stopping the suite.
curl() {
	command curl --max-time 60 "$@"
}

# The user php-fpm's children run as (start_php_pool): what the
# applications must be able to write.
apps_php_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		chown -R nobody:nogroup "$@"
	fi
}

# apps_start_mariadb: a private server on a unix socket ($T/mysql.sock),
# no TCP, with a database and user for WordPress.
apps_start_mariadb() {
	local user
	user="$(id -un)"
	mariadb-install-db --no-defaults --datadir="$T/db" --user="$user" \
	    --auth-root-authentication-method=socket --skip-test-db \
	    >"$T/mariadb-install.log" 2>&1 || {
		cat "$T/mariadb-install.log" >&2
		return 1
	}
	mariadbd --no-defaults --datadir="$T/db" --socket="$T/mysql.sock" \
	    --skip-networking --pid-file="$T/mysql.pid" --user="$user" \
	    --log-error="$T/mysql.err" --innodb-buffer-pool-size=32M \
	    --skip-log-bin >>"$T/mysql.out" 2>&1 &
	fcg_track $!
	for _ in $(seq 1 100); do
		[ -S "$T/mysql.sock" ] && break
		sleep 0.1
	done
	[ -S "$T/mysql.sock" ] || {
		cat "$T/mysql.err" >&2
		return 1
	}
	mariadb --no-defaults -S "$T/mysql.sock" -u root <<'SQL'
CREATE DATABASE wordpress;
CREATE USER 'wp'@'localhost' IDENTIFIED BY 'wp-test-secret';
GRANT ALL ON wordpress.* TO 'wp'@'localhost';
SQL
}

# apps_copy_wordpress: Debian's tree with our wp-config.php.  Debian's own
# wp-config.php reads /etc/wordpress/config-HOST.php; ours points at the
# test's database instead.  A copy rather than links: WordPress finds its
# config from the real path of wp-load.php, so a link to Debian's tree
# would load Debian's again.
apps_copy_wordpress() {
	cp -rL /usr/share/wordpress "$T/wordpress"
	rm -f "$T/wordpress/.htaccess"
	sed -e "s#@SOCKET@#$T/mysql.sock#" "$APPS/wp-config.php" \
	    >"$T/wordpress/wp-config.php"
	mkdir -p "$T/wordpress/wp-content/uploads"
	apps_php_owner "$T/wordpress/wp-content"
}

# apps_copy_dokuwiki: Debian's tree laid out as DokuWiki's own tarball
# (conf/ and data/ inside it), so that the documented configuration's
# locations for conf/ and data/ are what protects them.  Debian's
# inc/preload.php moves both to /etc and /var/lib; without it DokuWiki
# uses the tree's own.
apps_copy_dokuwiki() {
	local d="$T/dokuwiki"
	cp -rL /usr/share/dokuwiki "$d"
	rm -f "$d/inc/preload.php" "$d/.htaccess"
	mkdir -p "$d/conf"
	cp -L /etc/dokuwiki/*.php /etc/dokuwiki/*.conf "$d/conf/"
	rm -f "$d/conf/apache.conf" "$d/conf/lighttpd.conf"
	cp "$APPS/dokuwiki-local.php" "$d/conf/local.php"
	cp -r /var/lib/dokuwiki/data "$d/data"
	apps_php_owner "$d/data" "$d/conf"
}

# apps_front_controller: a public/ directory with a tiny router, shaped
# like Laravel's (public/index.php and static files beside it).
apps_front_controller() {
	local d="$T/laravel/public"
	mkdir -p "$d/css" "$d/.well-known"
	cp "$APPS/front-controller.php" "$d/index.php"
	echo "body { color: #333 }" >"$d/css/app.css"
	echo "APP_KEY=not-for-the-web" >"$d/.env"
	echo "verification token" >"$d/.well-known/token.txt"
	printf '<?php echo "other script ran";\n' >"$d/other.php"
}

# apps_adapt FILE: a recipe (fcgate's or nginx's) with the test's address,
# document root and PHP-FPM socket in place of the documented ones.
apps_adapt() {
	sed -e "s#$APPS_DOC_SOCK#$T/php-apps.sock#g" \
	    -e "s#/var/www/\\([a-z]*\\)#$T/\\1#g" \
	    -e "s#^\\(\\s*\\)listen\\s*=\\s*{80}#\\1listen = {\"127.0.0.1:$HTTP_PORT\"}#" \
	    -e "s#^\\(\\s*\\)listen 80;#\\1listen 127.0.0.1:$HTTP_PORT;#" "$1"
}

# apps_dir APP: where the gateway's configuration and logs for APP go
# (APPS_TAG keeps a configuration test's files apart from the running
# gateway's).
apps_dir() {
	echo "$T/$APPS_GATEWAY-$1${APPS_TAG:-}"
}

# apps_fcgate_conf APP: the global part for this test and the app's recipe.
apps_fcgate_conf() {
	local dir
	dir="$(apps_dir "$1")"
	mkdir -p "$dir"
	cp "$REPO/etc/fastcgi_params" "$dir/"
	{
		base_conf | sed -e "s#$T/\\(fcgate\\.[a-z]*\\)#$dir/\\1#" \
		    -e "s#$T/\\([a-z]*\\.log\\)#$dir/\\1#"
		apps_adapt "$APPS_RECIPES/$1.conf"
	} >"$dir/fcgate.conf"
}

# apps_nginx_conf APP: an nginx.conf around the app's documented server.
apps_nginx_conf() {
	local dir user=""
	dir="$(apps_dir "$1")"
	mkdir -p "$dir"
	cp /etc/nginx/mime.types "$dir/"
	# nginx's own fastcgi_params, which the documented configurations
	# assume: Debian's adds "HTTP_HOST $host", which drops the port from
	# the Host header, and WordPress then links to port 80.
	grep -v '^fastcgi_param  *HTTP_HOST ' /etc/nginx/fastcgi_params \
	    >"$dir/fastcgi_params"
	[ "$(id -u)" -eq 0 ] && user="user nobody nogroup;"
	apps_adapt "$APPS/nginx/$1.conf" >"$dir/site.conf"
	cat >"$dir/nginx.conf" <<CONF
$user
worker_processes 2;
events { worker_connections 256; }
http {
	include mime.types;
	default_type application/octet-stream;
	access_log $dir/access.log;
	client_body_temp_path $dir/body;
	fastcgi_temp_path $dir/fastcgi;
	proxy_temp_path $dir/proxy;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	include site.conf;
}
CONF
}

# apps_write_conf APP: the gateway's configuration for APP on HTTP_PORT.
apps_write_conf() {
	if [ "$APPS_GATEWAY" = nginx ]; then
		apps_nginx_conf "$1"
	else
		apps_fcgate_conf "$1"
	fi
}

# apps_check_conf APP: the gateway's own test of what apps_write_conf
# wrote; prints what it said.
apps_check_conf() {
	local dir
	dir="$(apps_dir "$1")"
	if [ "$APPS_GATEWAY" = nginx ]; then
		/usr/sbin/nginx -t -q -p "$dir" -c "$dir/nginx.conf" \
		    -g "pid $dir/nginx.pid; error_log stderr;" 2>&1
	else
		"$FCGATE" -t -c "$dir/fcgate.conf" 2>&1
	fi
}

# apps_start_gateway APP: the gateway in front of APP on a free port.  On
# success the app's base URL is in $T/APP.url; on failure $T/APP.why says
# why, and the app's tests fail with it.
apps_start_gateway() {
	local app="$1" dir out
	HTTP_PORT="$(free_port)"
	apps_write_conf "$app"
	if ! out="$(apps_check_conf "$app")"; then
		printf '%s refused the configuration:\n%s\n' "$APPS_GATEWAY" \
		    "$out" >"$T/$app.why"
		return 0
	fi
	dir="$(apps_dir "$app")"
	if [ "$APPS_GATEWAY" = nginx ]; then
		/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off; \
pid $dir/nginx.pid; error_log $dir/err.log;" >>"$dir/nginx.out" 2>&1 &
	else
		# In $T itself: fcg_teardown reads $T/*.out for sanitizer
		# reports.
		"$FCGATE" -f -c "$dir/fcgate.conf" >>"$T/fcgate-$app.out" 2>&1 &
	fi
	fcg_track $!
	if wait_port "$HTTP_PORT" 2>/dev/null; then
		echo "http://127.0.0.1:$HTTP_PORT" >"$T/$app.url"
	else
		echo "$APPS_GATEWAY did not start for $app" >"$T/$app.why"
	fi
}

# app_url APP: sets URL to the app's address, or fails with the reason its
# gateway is not there.
app_url() {
	if [ -f "$T/$1.url" ]; then
		URL="$(cat "$T/$1.url")"
		return 0
	fi
	cat "$T/$1.why" >&2
	return 1
}

# gateway_log access|error APP: the gateway's log file for APP.
gateway_log() {
	local dir
	dir="$(apps_dir "$2")"
	if [ "$1" = access ]; then
		echo "$dir/access.log"
	elif [ "$APPS_GATEWAY" = nginx ]; then
		echo "$dir/err.log"
	else
		echo "$dir/error.log"
	fi
}

# browser SCRIPT STEP...: one step of a Playwright flow in headless
# Chromium (bounded: 120 s).
browser() {
	local script="$1"
	shift
	NODE_PATH="$NODE_MODULES" timeout 120 node "$APPS/$script" "$@"
}
