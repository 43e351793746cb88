#!/usr/bin/env bats
# Real applications behind the gateway, configured with the recipes in
# etc/recipes/: WordPress (on MariaDB) and DokuWiki driven by headless
# Chromium, a Laravel-style front controller by curl, and the gateway's
# configuration test for every recipe.  Each flow is what a person does
# with the application; each check says which nginx behaviour of the
# recipe it depends on.
#
# APPS_GATEWAY=nginx runs the same flows through Debian's nginx with the
# applications' own documented nginx configurations (t/apps/nginx/).
# Everything runs in the test's temp dir, on loopback, and is stopped by
# pid at the end (t/apps/apps.bash).

load helper
load apps/apps

setup_file() {
	fcg_setup
	export T
	apps_start_mariadb
	apps_copy_wordpress
	apps_copy_dokuwiki
	apps_front_controller
	start_php_pool apps "$T/php-apps.sock"
	apps_start_gateway wordpress
	apps_start_gateway dokuwiki
	apps_start_gateway laravel
}

teardown_file() {
	fcg_teardown
}

# status URL [curl options]: the HTTP status code only.
status() {
	local url="$1"
	shift
	curl -sS -o /dev/null -w '%{http_code}' "$@" "$url"
}

@test "every recipe passes the gateway's configuration test" {
	# What users copy must load: fcgate -t on each recipe (nginx -t on the
	# documented originals with APPS_GATEWAY=nginx).
	local app apps=(wordpress dokuwiki laravel drupal phpmyadmin) bad=0
	local APPS_TAG=-check
	for app in "${apps[@]}"; do
		HTTP_PORT="$(free_port)"
		apps_write_conf "$app"
		if ! out="$(apps_check_conf "$app")"; then
			echo "$app: $out" >&2
			bad=1
		fi
	done
	[ "$bad" = 0 ]
}

@test "WordPress: the install wizard runs to its end" {
	app_url wordpress
	run browser wordpress.js "$URL" "$T/wp-state.json" install
	assert_success
	assert_line installed=yes
	# The installer tried pretty permalinks by asking the site for its
	# first post at /YYYY/MM/DD/hello-world/; only the recipe's
	# try_files ... /index.php?$args makes that answer.
	run mariadb --no-defaults -S "$T/mysql.sock" -u root -N -e \
	    "SELECT option_value FROM wordpress.wp_options
	     WHERE option_name = 'permalink_structure'"
	assert_output "/%year%/%monthnum%/%day%/%postname%/"
}

@test "WordPress: log in, land on the dashboard" {
	app_url wordpress
	run browser wordpress.js "$URL" "$T/wp-state.json" login
	assert_success
	assert_line "dashboard=$URL/wp-admin/"
}

@test "WordPress: it takes the gateway for a server that rewrites URLs" {
	app_url wordpress
	# SERVER_SOFTWARE holds "nginx" (nginx's own, or the recipe's
	# "fcgate/... (nginx-compatible)"): got_url_rewrite() is true and the
	# permalink settings offer /YYYY/MM/DD/name/ without /index.php/.
	run browser wordpress.js "$URL" "$T/wp-state.json" permalinks
	assert_success
	assert_line index_php_prefix=no
	assert_line day_and_name=yes
}

@test "WordPress: publish a post in the block editor, read it at its pretty permalink" {
	app_url wordpress
	# The block editor talks to /wp-json/ (routed by try_files to
	# index.php with the query string) on every step.
	run browser wordpress.js "$URL" "$T/wp-state.json" publish \
	    "Gateway test post" "Served through the recipe."
	assert_success
	link="$(sed -n 's/^permalink=//p' <<<"$output")"
	[[ "$link" =~ ^$URL/[0-9]{4}/[0-9]{2}/[0-9]{2}/gateway-test-post/$ ]] || {
		echo "not a pretty permalink: $link" >&2
		false
	}
	echo "$link" >"$T/wp-post.url"
	# nginx: no file or directory at that path, so try_files' last item
	# (/index.php?$args) answers it, with REQUEST_URI the path asked for.
	run curl -sS -w '\n%{http_code}\n' "$link"
	assert_line 200
	assert_output --partial "Gateway test post"
	assert_output --partial "Served through the recipe."
}

@test "WordPress: an uploaded image comes back byte-identical, as a static file" {
	app_url wordpress
	php -r '$i = imagecreatetruecolor(97, 61);
	    for ($x = 0; $x < 97; $x++) imagesetpixel($i, $x, $x % 61,
	        imagecolorallocate($i, $x * 2, 255 - $x, 7 * $x % 256));
	    imagepng($i, $argv[1]);' "$T/gateway-pixels.png"
	run browser wordpress.js "$URL" "$T/wp-state.json" upload \
	    "$T/gateway-pixels.png"
	assert_success
	file_url="$(sed -n 's/^file_url=//p' <<<"$output")"
	[[ "$file_url" == "$URL"/wp-content/uploads/*/gateway-pixels.png ]]
	run curl -sS -D "$T/img.head" -o "$T/img.back" "$file_url"
	assert_success
	cmp "$T/gateway-pixels.png" "$T/img.back"
	# The recipe's '~* \.(js|css|png|...)$' location: a file on disk,
	# with "expires max" (nginx: Cache-Control max-age=315360000 and an
	# Expires in 2037).
	grep -i -q '^cache-control: max-age=315360000' "$T/img.head"
	grep -i -q '^expires: thu, 31 dec 2037 23:55:55 gmt' "$T/img.head"
}

@test "WordPress: the REST API lists the post" {
	app_url wordpress
	# /wp-json/... is no file: try_files hands it to index.php.
	run curl -sS -w '\n%{http_code}\n' "$URL/wp-json/wp/v2/posts"
	assert_line 200
	run python3 -c 'import json, sys
posts = json.loads(sys.stdin.read().rsplit("\n", 2)[0])
print("\n".join(p["title"]["rendered"] for p in posts))' <<<"$output"
	assert_success
	assert_line "Gateway test post"
}

@test "WordPress: a missing page is WordPress's 404" {
	app_url wordpress
	# try_files falls back to index.php, which answers 404 with its own
	# page; fastcgi_intercept_errors changes nothing without an
	# error_page for 404.
	run curl -sS -w '\n%{http_code}\n' "$URL/no-such-page-here/"
	assert_line 404
	assert_output --partial "fcgate test blog"
}

@test "WordPress: a missing /favicon.ico is a quiet 404, /robots.txt only a file" {
	app_url wordpress
	# "= /favicon.ico" { log_not_found off; access_log off }: the 404 is
	# neither in the error log nor in the access log.
	assert_equal "$(status "$URL/favicon.ico")" 404
	# "= /robots.txt" has no try_files: WordPress's virtual robots.txt is
	# not reached, a missing file is a 404.
	assert_equal "$(status "$URL/robots.txt")" 404
	sleep 0.2
	run grep -c 'favicon\|robots' "$(gateway_log access wordpress)"
	assert_output 0
	run grep -c 'favicon\|robots' "$(gateway_log error wordpress)"
	assert_output 0
}

@test "WordPress: wp-config.php runs, it is never shown" {
	app_url wordpress
	# '~ \.php$' sends it to PHP (empty answer), never the static handler.
	run curl -sS -w '\n%{http_code}\n' "$URL/wp-config.php"
	refute_output --partial "DB_PASSWORD"
}

@test "DokuWiki: edit and save a page at its nice URL" {
	app_url dokuwiki
	# /gateway_test?do=edit is no file: try_files' @dokuwiki rewrites it
	# to /doku.php?id=gateway_test&do=edit ("&$args" keeps the query).
	run browser dokuwiki.js "$URL" gateway_test "Saved through the gateway"
	assert_success
	assert_line "saved=$URL/gateway_test"
	assert_line shown=yes
	run curl -sS -w '\n%{http_code}\n' "$URL/gateway_test"
	assert_line 200
	assert_output --partial "Saved through the gateway"
	# The raw export, through the _export rewrite.
	run curl -sS "$URL/_export/raw/gateway_test"
	assert_output "Saved through the gateway"
}

@test "DokuWiki: upload media and fetch it back through /_media/" {
	app_url dokuwiki
	local jar="$T/dw-cookies"
	php -r '$i = imagecreatetruecolor(33, 21);
	    imagefill($i, 0, 0, imagecolorallocate($i, 10, 200, 30));
	    imagepng($i, $argv[1]);' "$T/wiki-pixels.png"
	# The media manager's form and its security token (empty for an
	# anonymous user, but sent as a person's browser sends it).
	run curl -sS -c "$jar" -b "$jar" "$URL/start?do=media"
	assert_output --partial 'name="sectok"'
	sectok="$(grep -o 'name="sectok" value="[0-9a-f]*"' <<<"$output" |
	    head -1 | sed 's/.*value="//; s/"//')"
	run status "$URL/lib/exe/mediamanager.php" -c "$jar" -b "$jar" \
	    -F "sectok=$sectok" -F ns= -F mediaid=wiki-pixels.png \
	    -F "upload=@$T/wiki-pixels.png;type=image/png"
	assert_success
	[ -f "$T/dokuwiki/data/media/wiki-pixels.png" ]
	# /_media/NAME rewrites to /lib/exe/fetch.php?media=NAME.
	curl -sS -o "$T/wiki.back" "$URL/_media/wiki-pixels.png"
	cmp "$T/wiki-pixels.png" "$T/wiki.back"
	# /_detail/NAME rewrites to /lib/exe/detail.php?media=NAME.
	run curl -sS -w '\n%{http_code}\n' "$URL/_detail/wiki-pixels.png"
	assert_line 200
	assert_output --partial "wiki-pixels.png"
}

@test "DokuWiki: conf/, bin/, inc/, vendor/, install.php refused; data/ internal" {
	app_url dokuwiki
	# '~ /(conf/|bin/|inc/|vendor/|install.php)' { deny all } -> 403
	assert_equal "$(status "$URL/conf/local.php")" 403
	assert_equal "$(status "$URL/conf/users.auth.php")" 403
	assert_equal "$(status "$URL/bin/indexer.php")" 403
	assert_equal "$(status "$URL/inc/init.php")" 403
	assert_equal "$(status "$URL/vendor/autoload.php")" 403
	assert_equal "$(status "$URL/install.php")" 403
	# '~ ^/data/' { internal } -> 404 for every request from outside,
	# though the files are there
	[ -f "$T/dokuwiki/data/pages/wiki/syntax.txt" ]
	assert_equal "$(status "$URL/data/pages/wiki/syntax.txt")" 404
	[ -f "$T/dokuwiki/data/media/wiki/dokuwiki.svg" ]
	assert_equal "$(status "$URL/data/media/wiki/dokuwiki.svg")" 404
	# lib/ statics: the '~ ^/lib.*\.(js|css|...)$' location, expires 365d
	run curl -sS -o /dev/null -D - "$URL/lib/tpl/dokuwiki/images/logo.png"
	assert_line --partial "200"
	assert_output --partial "Cache-Control: max-age=31536000"
}

@test "front controller: a route reaches index.php with its query string" {
	app_url laravel
	# try_files $uri $uri/ /index.php?$query_string: a route is no file.
	# A 200: reached through try_files, not through "error_page 404
	# /index.php", which would keep the 404.
	run curl -sS -D - "$URL/users/42?page=3"
	assert_line --regexp "^HTTP/1.1 200 OK"
	assert_line --partial "X-Frame-Options: SAMEORIGIN"
	assert_line --partial "X-Content-Type-Options: nosniff"
	assert_line "user 42"
	assert_line "query page=3"
	assert_line "page 3"
	assert_line "script /index.php"
	# fastcgi_hide_header X-Powered-By
	refute_output --partial "X-Powered-By"
	# "/" is a directory: $uri/ with index index.php
	run curl -sS "$URL/"
	assert_line "home"
}

@test "front controller: a POST keeps its method and body through try_files" {
	app_url laravel
	run curl -sS -d name=fcgate "$URL/form"
	assert_line "posted fcgate"
}

@test "front controller: the application's own 404 passes through" {
	app_url laravel
	# nginx does not apply "error_page 404 /index.php" to the answer of
	# index.php itself (no fastcgi_intercept_errors)
	run curl -sS -w '\n%{http_code}\n' "$URL/nowhere"
	assert_line "no route for /nowhere"
	assert_line 404
}

@test "front controller: files are files, with the server's add_header" {
	app_url laravel
	run curl -sS -D - "$URL/css/app.css"
	assert_line --partial "X-Frame-Options: SAMEORIGIN"
	assert_line "body { color: #333 }"
	# only '~ ^/index\.php(/|$)' runs PHP: another script is a file
	run curl -sS "$URL/other.php"
	refute_output "other script ran"
	assert_output --partial '<?php'
}

@test "front controller: dot files refused; /.well-known/ served, charset on text" {
	app_url laravel
	# '~ /\.(?!well-known).*' { deny all }
	assert_equal "$(status "$URL/.env")" 403
	# "charset utf-8" names the charset of a text/plain file (nginx's
	# default charset_types), not of text/css
	run curl -sS -D - "$URL/.well-known/token.txt"
	assert_line --partial "200"
	assert_line --partial "Content-Type: text/plain; charset=utf-8"
	run curl -sS -D - -o /dev/null "$URL/css/app.css"
	assert_line --partial "Content-Type: text/css"
	refute_output --partial "charset"
}
