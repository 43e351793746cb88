<?php
/*
 * DokuWiki's local settings for t/80-apps.bats.  Debian's dokuwiki.php
 * puts the data in /var/lib/dokuwiki; here it is the tree's own data/, as
 * in DokuWiki's tarball, so that the web server configuration is what
 * keeps it from the web.
 */
$conf['savedir'] = DOKU_INC . 'data';
$conf['title'] = 'fcgate test wiki';
/* Nice URLs through the web server's rewrites: /page, /_media/file. */
$conf['userewrite'] = 1;
/* An open wiki: anyone may edit and upload, no login in the flow. */
$conf['useacl'] = 0;
/* Answers without gzip, so that the test reads them as they are. */
$conf['gzip_output'] = 0;
