#!/usr/bin/env bats
# try_files, alias, named locations, internal and nested locations, with
# nginx's semantics.  Each test names the nginx behaviour it pins; the
# answers were compared with nginx 1.22.1 given the same configuration.

load helper

setup() {
	fcg_setup
	H="$T/html"
	mkdir -p "$H/dir" "$H/emptydir" "$H/up" "$H/n/stop" "$H/p/q" \
		"$T/img/sub" "$T/files" "$T/other/n/stop" "$T/nested/n"
	echo "html index" >"$H/index.html"
	echo "dir index" >"$H/dir/index.html"
	echo "a file" >"$H/a.txt"
	echo "not php" >"$H/up/evil.jpg"
	echo "<?php // never run" >"$H/info.php"
	echo "index script" >"$H/index.php"
	echo "<h1>custom 404</h1>" >"$H/404.html"
	echo "html s.css" >"$H/s.css"
	echo "pq" >"$H/p/q/x.txt"
	echo "img x" >"$T/img/x.png"
	echo "img sub" >"$T/img/sub/y.png"
	echo "protected doc" >"$T/files/doc.txt"
	echo "TOP-SECRET" >"$T/secret.txt"
	ln -s "$T/secret.txt" "$T/img/out.png"
	ln -s "$T/secret.txt" "$H/out.txt"
	echo "other n home" >"$T/other/n/home.html"
	echo "other stop home" >"$T/other/n/stop/home.html"
	echo "other n css" >"$T/other/n/s.css"
	echo "other stop css" >"$T/other/n/stop/s.css"
	echo "nested css" >"$T/nested/n/s.css"
	echo "html stop css" >"$H/n/stop/s.css"
	start_testd a
	write_conf
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

write_conf() {
	{
		base_conf
		cat <<CONF
upstream app { server 127.0.0.1:$TESTD_PORT_a {} }
upstream php { server "unix:$T/php.sock" {} }
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$H"
    index = {index.html}
    include("$REPO/etc/fastcgi_params")

    location "/" { try_files = {"\$uri", "\$uri/", "/index.php?\$args"} }
    location '~ [^/]\.php(/|\$)' {
        try_files = {"\$fastcgi_script_name", "=404"}
        fastcgi_split_path_info = '^(.+?\.php)(/.*)\$'
        fastcgi_pass = app
        fastcgi_param { SCRIPT_NAME = "\$fastcgi_script_name"  PATH_INFO = "\$fastcgi_path_info"  DOCUMENT_URI = "\$document_uri"  QUERY_STRING = "\$query_string"  REQUEST_URI = "\$request_uri" }
    }
    location "/wp/" {
        root = "$T/wp"
        index = {index.php}
        try_files = {"\$uri", "\$uri/", "/wp/index.php?\$args"}
        location '~ \.php\$' {
            fastcgi_pass = php
            include("$REPO/etc/fastcgi_params")
            fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
        }
    }
    location "/noargs/" { try_files = {"\$uri", "/index.php"} }
    location "/qmark/" { try_files = {"\$uri?z=1", "/index.php?\$args&added=1"} }
    location "/dironly/" { try_files = {"\$uri/", "=404"} }
    location "/fileonly/" { try_files = {"\$uri", "=404"} }
    location "/code/" { error_page "/404.html" { status = {404} }  try_files = {"\$uri", "=404"} }
    location "/teapot/" { try_files = {"\$uri", "=418"} }
    location "/named/" { try_files = {"\$uri", "@back"} }
    location "@back" { fastcgi_pass = app }
    location "/nonamed/" { try_files = {"\$uri", "@nothere"} }
    location "/loop/" { try_files = {"\$uri", "/loop/again"} }
    location "/img/" { alias = "$T/img/"  try_files = {"\$uri", "/img/x.png"} }
    location "/imgdir/" { alias = "$T/img/"  try_files = {"\$uri", "\$uri/", "=404"} }
    location "/slashless" { alias = "$T/img/" }
    location "/relimg/" { alias = "img/" }
    location '~ ^/re/(.+)\$' { alias = "$T/img/\$1" }
    location '~ ^/vf/(.+)\$' { alias = "\$http_x_dir/\$1" }
    location '~ ^/retf/(.+)\$' { alias = "$T/img/\$1"  try_files = {"", "=404"} }
    location "/al/" {
        alias = "$T/img/"
        location '~ \.png\$' { fastcgi_index = "unused" }
    }
    location "/prot/" { internal = true  alias = "$T/files/" }
    location "/toprot/" { try_files = {"\$uri", "/prot/doc.txt"} }
    location "= /via-index/" { index = {"/prot/doc.txt"} }
    location "/p/" { internal = true  location "/p/q/" {} }
    location "/n/" {
        root = "$T/other"
        index = {home.html}
        location '~ \.css\$' { root = "$T/nested" }
        location "^~ /n/stop/" {}
    }
    location '~ \.css\$' { root = "$H" }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {bare}
    root = "$H"
    try_files = {"\$uri", "/srv-fallback.txt"}
    location "/own/" {}
}
CONF
	} >"$T/fcgate.conf"
}

teardown() {
	fcg_teardown
}

# get PATH [curl args]: prints "CODE"; the body is in $T/b.
get() {
	local p="$1"
	shift
	curl -sS -o "$T/b" -w '%{http_code}' "$@" "$URL$p"
}

@test "WordPress: try_files \$uri \$uri/ /index.php?\$args in front of real PHP" {
	# nginx: an existing file is served by the location itself; a
	# directory without its slash is a 301; with it, its index; anything
	# else runs /index.php with the request's arguments, the original
	# REQUEST_URI, and DOCUMENT_URI/SCRIPT_NAME of the new URI.
	mkdir -p "$T/wp/wp/wp-admin"
	echo "readme" >"$T/wp/wp/readme.txt"
	cat >"$T/wp/wp/index.php" <<'PHP'
<?php
header('Content-Type: text/plain');
foreach (['SCRIPT_NAME', 'QUERY_STRING', 'REQUEST_URI', 'DOCUMENT_URI']
    as $k)
	echo $k, "=", $_SERVER[$k] ?? '', "\n";
PHP
	cp "$T/wp/wp/index.php" "$T/wp/wp/wp-admin/index.php"
	chmod -R a+rX "$T/wp"
	start_php_pool wp "$T/php.sock"
	run get /wp/readme.txt
	assert_output 200
	assert_equal "$(cat "$T/b")" readme
	run curl -sS "$URL/wp/2024/05/hello-world/?replytocom=7"
	assert_line "SCRIPT_NAME=/wp/index.php"
	assert_line "QUERY_STRING=replytocom=7"
	assert_line "REQUEST_URI=/wp/2024/05/hello-world/?replytocom=7"
	assert_line "DOCUMENT_URI=/wp/index.php"
	run curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/wp/wp-admin"
	assert_output "301 $URL/wp/wp-admin/"
	# the directory, found through \$uri/, gets its index.php
	run curl -sS "$URL/wp/wp-admin/?page=1"
	assert_line "SCRIPT_NAME=/wp/wp-admin/index.php"
	assert_line "QUERY_STRING=page=1"
}

@test "a directory with an index is served by \$uri/, an empty one is 403" {
	# nginx: "\$uri/" tests for a directory; found, the URI is the
	# directory's and the index module answers (its index, else 403).
	run get /dir/
	assert_output 200
	assert_equal "$(cat "$T/b")" "dir index"
	run get /emptydir/
	assert_output 403
	run grep -c 'directory index of .*emptydir/" is forbidden' "$T/error.log"
	assert_output 1
}

@test "the fallback URI's '?' sets the arguments; without one there are none" {
	# nginx: the last argument is split at '?' (ngx_http_split_args)
	# and the internal redirect replaces the arguments: none when the
	# URI has no '?'.
	run curl -sS "$URL/nope?x=1"
	assert_line "QUERY_STRING=x=1"
	assert_line "SCRIPT_NAME=/index.php"
	assert_line "DOCUMENT_URI=/index.php"
	assert_line "REQUEST_URI=/nope?x=1"
	run curl -sS "$URL/noargs/x?a=1"
	assert_line "SCRIPT_NAME=/index.php"
	assert_line "QUERY_STRING="
	run curl -sS "$URL/qmark/a.txt?w=1"
	assert_line "QUERY_STRING=w=1&added=1"
}

@test "a found candidate keeps the arguments; a '?' in a candidate is part of the name" {
	# nginx: a candidate is a file name only; finding it changes r->uri
	# and nothing else, so the arguments stay.
	mkdir -p "$H/qmark"
	echo "with query" >"$H/qmark/a.txt?z=1"
	run get "/qmark/a.txt?w=1"
	assert_output 200
	assert_equal "$(cat "$T/b")" "with query"
	run curl -sS "$URL/index.php?y=2"
	assert_line "QUERY_STRING=y=2"
}

@test "\$uri/ matches only a directory and \$uri anything but one" {
	# nginx: test_dir is set for a candidate ending in '/', and
	# of.is_dir must equal it.
	mkdir -p "$H/dironly/d" "$H/fileonly/d"
	echo f >"$H/dironly/f.txt"
	echo f >"$H/fileonly/f.txt"
	run get /dironly/f.txt
	assert_output 404
	run curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/dironly/d"
	assert_output "301 $URL/dironly/d/"
	run get /fileonly/d
	assert_output 404
	run get /fileonly/f.txt
	assert_output 200
}

@test "the =404 guard in a PHP location: a missing script never reaches FastCGI" {
	# nginx: try_files \$fastcgi_script_name =404 answers 404 for a
	# script that is not a file (an uploaded image named .../x.php).
	run get /nope.php
	assert_output 404
	run get /up/evil.jpg/x.php
	assert_output 404
	assert_equal "$(conns a)" 0
}

@test "an existing script passes, with the URI try_files set" {
	# nginx: the found candidate becomes r->uri, and the FastCGI
	# handler splits it again: with try_files, PATH_INFO is empty and
	# DOCUMENT_URI is the script (nginx's well-known try_files and
	# fastcgi_split_path_info interplay).
	run curl -sS "$URL/info.php/extra/path?p=1"
	assert_line "SCRIPT_NAME=/info.php"
	assert_line "PATH_INFO="
	assert_line "DOCUMENT_URI=/info.php"
	assert_line "QUERY_STRING=p=1"
	assert_line "REQUEST_URI=/info.php/extra/path?p=1"
}

@test "=CODE answers that status, through the level's error_page" {
	# nginx: try_files =404 returns the code, and error_page 404 turns
	# it into the page with the 404 status; any code is allowed.
	run get /code/missing
	assert_output 404
	assert_equal "$(cat "$T/b")" "<h1>custom 404</h1>"
	run get /teapot/missing
	assert_output 418
}

@test "@name: the named location serves the URI and arguments as they were" {
	# nginx: ngx_http_named_location keeps r->uri and r->args.
	run curl -sS "$URL/named/x?b=2"
	assert_line "DOCUMENT_URI=/named/x"
	assert_line "QUERY_STRING=b=2"
	# a named location is never matched by a URI: /@back goes to "/"
	run curl -sS "$URL/@back"
	assert_line "DOCUMENT_URI=/index.php"
}

@test "a missing named location is 500 and logged" {
	# nginx: "could not find named location" and 500.
	run get /nonamed/x
	assert_output 500
	run grep -c 'could not find named location "@nothere"' "$T/error.log"
	assert_output 1
}

@test "a fallback that loops ends in 500 and the redirection cycle log line" {
	# nginx: 10 internal redirects, then 500 and "rewrite or internal
	# redirection cycle while internally redirecting to ...".
	run get /loop/x
	assert_output 500
	run grep -c 'rewrite or internal redirection cycle while internally redirecting to "/loop/again"' "$T/error.log"
	assert_output 1
}

@test "the server's try_files serves URIs no location matches, and no location inherits it" {
	# nginx: try_files is not merged into locations; the server's own
	# applies where the server's configuration is the request's.
	echo "server fallback" >"$H/srv-fallback.txt"
	mkdir -p "$H/own"
	run get /missing -H 'Host: bare'
	assert_output 200
	assert_equal "$(cat "$T/b")" "server fallback"
	run get /a.txt -H 'Host: bare'
	assert_equal "$(cat "$T/b")" "a file"
	run get /own/missing -H 'Host: bare'
	assert_output 404
}

@test "internal: 404 from outside, entered through try_files and index" {
	# nginx: a request that did not come through an internal redirect
	# (r->internal) gets 404 in an internal location; try_files'
	# fallback and the index module's redirect are internal.
	run get /prot/doc.txt
	assert_output 404
	refute grep -q 'protected doc' "$T/b"
	run grep -c 'internal location "/prot/"' "$T/error.log"
	assert_output 1
	run get /toprot/x
	assert_output 200
	assert_equal "$(cat "$T/b")" "protected doc"
	run get /via-index/
	assert_output 200
	assert_equal "$(cat "$T/b")" "protected doc"
}

@test "internal passes to nested locations" {
	# nginx merges internal into nested locations (ngx_conf_merge_value).
	run get /p/q/x.txt
	assert_output 404
	refute grep -q pq "$T/b"
}

@test "alias in a prefix location replaces the prefix, also for try_files" {
	# nginx: alias maps the URI after the location's prefix; try_files
	# candidates are mapped the same way; the literal fallback is a URI.
	run get /img/x.png
	assert_output 200
	assert_equal "$(cat "$T/b")" "img x"
	run get /img/sub/y.png
	assert_equal "$(cat "$T/b")" "img sub"
	# a relative alias is taken from the config file's folder (nginx:
	# its prefix), as root is
	run get /relimg/sub/y.png
	assert_output 200
	assert_equal "$(cat "$T/b")" "img sub"
	run get /img/missing.png
	assert_output 200
	assert_equal "$(cat "$T/b")" "img x"
	# \$uri/ on the alias directory itself: the index module's 403
	run get /imgdir/
	assert_output 403
	run grep -c "directory index of \"$T/img/\" is forbidden" "$T/error.log"
	assert_output 1
}

@test "alias in a regex location names the file whole, with the captures" {
	# nginx: a regex location's alias is the path (no URI appended);
	# try_files candidates go after it.
	run get /re/x.png
	assert_output 200
	assert_equal "$(cat "$T/b")" "img x"
	run get /re/sub/y.png
	assert_equal "$(cat "$T/b")" "img sub"
	run get /re/none.png
	assert_output 404
	# an alias that starts with a variable is fenced by its value
	run get /vf/sub/y.png -H "X-Dir: $T/img"
	assert_output 200
	assert_equal "$(cat "$T/b")" "img sub"
	run get /retf/sub/y.png
	assert_output 200
	assert_equal "$(cat "$T/b")" "img sub"
	run get /retf/none.png
	assert_output 404
}

@test "a nested location inherits its parent's alias and prefix" {
	# nginx merges root/alias into nested locations with the alias
	# length of the location that set it: the nested regex location
	# maps /al/sub/y.png after the /al/ prefix, not under root.
	run get /al/sub/y.png
	assert_output 200
	assert_equal "$(cat "$T/b")" "img sub"
}

@test "alias never serves a file outside its directory: .. and symlinks" {
	# nginx would follow "/slashless../secret.txt" to the alias's parent
	# (the missing-slash alias traversal) and serve symlinks out;
	# fcgate refuses both, as it does for root.
	run get /slashless../secret.txt
	assert_output 403
	refute grep -q TOP-SECRET "$T/b"
	run get /re/out.png
	assert_output 403
	refute grep -q TOP-SECRET "$T/b"
	run get /al/out.png
	assert_output 403
	refute grep -q TOP-SECRET "$T/b"
	# try_files skips a candidate that leaves the alias: the fallback
	run get /img/out.png
	assert_output 200
	assert_equal "$(cat "$T/b")" "img x"
	run grep -c "outside of alias" "$T/error.log"
	assert_output 4
}

@test "try_files under root skips a symlink out of root" {
	# nginx (disable_symlinks off) would serve it; fcgate's root fence
	# makes the candidate absent, so the fallback runs.
	run curl -sS "$URL/out.txt"
	assert_line "SCRIPT_NAME=/index.php"
	refute_output --partial TOP-SECRET
}

@test "nested locations: a nested regex wins, a nested ^~ stops only its own level" {
	# nginx: in the longest prefix, its nested locations are searched
	# first, and a nested regex wins; a nested ^~ skips the nested
	# level's regexes but not the top level's, where \.css\$ still
	# wins; root and index pass from the parent location.
	run get /n/s.css
	assert_equal "$(cat "$T/b")" "nested css"
	run get /n/
	assert_equal "$(cat "$T/b")" "other n home"
	run get /n/stop/
	assert_equal "$(cat "$T/b")" "other stop home"
	run get /n/stop/s.css
	assert_equal "$(cat "$T/b")" "html stop css"
	run get /s.css
	assert_equal "$(cat "$T/b")" "html s.css"
}

@test "try_files needs a fallback, and =CODE a valid code: FILE:LINE" {
	cat >"$T/bad.conf" <<CONF
pid_file = "$T/bad.pid"
server {
    listen = {127.0.0.1:1}
    location "/" {
        try_files = {"\$uri"}
    }
    location "/b/" {
        try_files = {"\$uri", "=abc"}
    }
}
CONF
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure
	assert_output --partial "bad.conf:4: try_files needs a file and a last URI, =CODE or @name"
	assert_output --partial "bad.conf:7: try_files: invalid code '=abc'"
}
