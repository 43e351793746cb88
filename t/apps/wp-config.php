<?php
/*
 * WordPress's configuration for t/80-apps.bats: the test's own MariaDB on
 * its unix socket (apps.bash puts the socket's path in place of @SOCKET@).
 * It replaces Debian's wp-config.php, which would read
 * /etc/wordpress/config-HOST.php.
 */
define('DB_NAME', 'wordpress');
define('DB_USER', 'wp');
define('DB_PASSWORD', 'wp-test-secret');
define('DB_HOST', 'localhost:@SOCKET@');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');

/* Fixed keys: a test site, thrown away with the test's temp dir. */
define('AUTH_KEY', 'fcgate-test-auth-key');
define('SECURE_AUTH_KEY', 'fcgate-test-secure-auth-key');
define('LOGGED_IN_KEY', 'fcgate-test-logged-in-key');
define('NONCE_KEY', 'fcgate-test-nonce-key');
define('AUTH_SALT', 'fcgate-test-auth-salt');
define('SECURE_AUTH_SALT', 'fcgate-test-secure-auth-salt');
define('LOGGED_IN_SALT', 'fcgate-test-logged-in-salt');
define('NONCE_SALT', 'fcgate-test-nonce-salt');

$table_prefix = 'wp_';

/*
 * Offline: no update checks, translations or other calls home.  Requests
 * to the site itself stay allowed (the installer checks that pretty
 * permalinks work by asking the site for its first post).
 */
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('DISABLE_WP_CRON', true);
define('FS_METHOD', 'direct');
define('WP_DEBUG', false);

if (!defined('ABSPATH'))
	define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
