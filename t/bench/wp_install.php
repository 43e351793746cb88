<?php
/*
 * Installs the WordPress copy of the benchmark's WordPress case
 * (t/bench/wp_case.py) from the command line, as the install wizard would:
 * the tables, the site's address, the default theme, and one published
 * post with some content.  Prints "post=ID".  It serves nothing and leaves
 * the default permalinks (/?p=ID), the one URL form every gateway of the
 * bench routes to index.php without a rewrite of its own.
 *
 *   php wp_install.php WORDPRESS_DIR HOST TITLE MARKER
 */
if ($argc !== 5) {
	fwrite(STDERR, "usage: wp_install.php WORDPRESS_DIR HOST TITLE MARKER\n");
	exit(2);
}
[, $dir, $host, $title, $marker] = $argv;
$_SERVER['HTTP_HOST'] = $host;
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require $dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$home = "http://$host";
$r = wp_install('fcgate bench', 'admin', 'admin@example.invalid', false,
    '', 'bench-admin-not-a-secret');
if (empty($r['user_id'])) {
	fwrite(STDERR, "wp_install failed\n");
	exit(1);
}
update_option('siteurl', $home);
update_option('home', $home);
/* The installer tries pretty permalinks by asking the site over HTTP; no
 * site answers at $host yet, so it keeps the default, set here anyway. */
update_option('permalink_structure', '');

/* Some paragraphs and a list, so that the post page has the blocks a real
 * post has. */
$paras = [];
for ($i = 1; $i <= 6; $i++)
	$paras[] = "<!-- wp:paragraph -->\n<p>Paragraph $i of the benchmark " .
	    "post: a gateway in front of PHP-FPM passes this page through; " .
	    "the time goes to PHP and the database.</p>\n<!-- /wp:paragraph -->";
$content = "<!-- wp:paragraph -->\n<p>$marker</p>\n<!-- /wp:paragraph -->\n" .
    implode("\n", $paras) . "\n<!-- wp:list -->\n<ul><li>one</li>" .
    "<li>two</li><li>three</li></ul>\n<!-- /wp:list -->";
$id = wp_insert_post([
	'post_title' => $title,
	'post_content' => $content,
	'post_excerpt' => $marker,
	'post_status' => 'publish',
	'post_author' => $r['user_id'],
], true);
if (is_wp_error($id)) {
	fwrite(STDERR, $id->get_error_message() . "\n");
	exit(1);
}
if (get_stylesheet() !== 'twentytwentythree') {
	fwrite(STDERR, 'theme is ' . get_stylesheet() . ", not twentytwentythree\n");
	exit(1);
}
echo "post=$id\n";
