<?php
// Sends the request body back unchanged (try a large POST).
header('Content-Type: application/octet-stream');
$in = fopen('php://input', 'rb');
$out = fopen('php://output', 'wb');
stream_copy_to_stream($in, $out);
