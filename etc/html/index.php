<?php
// Which PHP-FPM pool answered, and what fcgate told it.
header('Content-Type: text/plain');
$pool = getenv('FCGATE_POOL') ?: 'unknown';
echo "pool=$pool\n";
foreach (['SCRIPT_FILENAME', 'SCRIPT_NAME', 'REQUEST_METHOD', 'QUERY_STRING',
    'REQUEST_URI', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'REMOTE_ADDR',
    'SERVER_SOFTWARE'] as $k) {
	echo "$k=" . ($_SERVER[$k] ?? '') . "\n";
}
foreach ($_SERVER as $k => $v) {
	if (strncmp($k, 'HTTP_', 5) === 0) {
		echo "$k=$v\n";
	}
}
echo "body_bytes=" . strlen(file_get_contents('php://input')) . "\n";
