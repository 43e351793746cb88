<?php
// Which PHP-FPM pool answered, and what it was told.
header('Content-Type: text/plain');
$pool = getenv('FCGATE_POOL') ?: 'unknown';
echo "pool=$pool\n";
echo "remote_addr={$_SERVER['REMOTE_ADDR']}\n";
echo "script_filename={$_SERVER['SCRIPT_FILENAME']}\n";
echo "request_uri={$_SERVER['REQUEST_URI']}\n";
