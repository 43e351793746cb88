<?php
/*
 * A front controller shaped like Laravel's public/index.php, for
 * t/80-apps.bats: one script answers every route, from the path in
 * REQUEST_URI, and keeps the query string.
 */
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
header('Content-Type: text/plain; charset=UTF-8');
/* What the recipe's fastcgi_hide_header must keep from the client. */
header('X-Powered-By: front-controller');
if ($path === '/') {
	echo "home\n";
} elseif (preg_match('#^/users/(\d+)$#', $path, $m)) {
	echo "user $m[1]\n";
	echo "query ", $_SERVER['QUERY_STRING'] ?? '', "\n";
	echo "page ", $_GET['page'] ?? '', "\n";
} elseif ($path === '/form' && $_SERVER['REQUEST_METHOD'] === 'POST') {
	echo "posted ", $_POST['name'] ?? '', "\n";
} else {
	http_response_code(404);
	echo "no route for $path\n";
}
echo "script ", $_SERVER['SCRIPT_NAME'], "\n";
