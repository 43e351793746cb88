// WordPress in headless Chromium, one step per call, for t/80-apps.bats:
//
//   node wordpress.js BASE STATE install|login|publish TITLE BODY|
//       upload FILE|permalinks
//
// STATE is the browser's cookie file, kept between steps (login writes
// it, publish and upload use it).  A step prints what the test checks as
// "key=value" lines and exits 0, or prints why it failed and exits 1.
// Everything it opens is on BASE (loopback); nothing else is fetched.
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');

const USER = 'admin';
const PASSWORD = 'Fc9!gate-Test-Passw0rd#2026';
const [base, state, step, ...args] = process.argv.slice(2);

// page.goto, failing at once with the status when the page is an error
// (the flow would only time out on a missing form later).
async function visit(page, url) {
	const res = await page.goto(url);
	if (!res || res.status() >= 400)
		throw new Error('GET ' + url + ': status ' +
		    (res ? res.status() : 'none'));
	return res;
}

async function install(page) {
	await visit(page, base + '/wp-admin/install.php');
	// The language screen appears only when translations are installed.
	if (await page.locator('#language-continue').count())
		await page.click('#language-continue');
	await page.fill('#weblog_title', 'fcgate test blog');
	await page.fill('#user_login', USER);
	await page.fill('#pass1', PASSWORD);
	// The repeated password is hidden while scripts run; the form still
	// sends it.
	await page.locator('#pass2').evaluate((e, v) => { e.value = v; },
	    PASSWORD);
	await page.fill('#admin_email', 'admin@example.com');
	await page.click('#submit');
	await page.waitForSelector('text=Success!');
	console.log('installed=yes');
}

async function login(page) {
	await visit(page, base + '/wp-login.php');
	await page.fill('#user_login', USER);
	await page.fill('#user_pass', PASSWORD);
	await page.click('#wp-submit');
	await page.waitForURL(/\/wp-admin\/?$/);
	await page.waitForSelector('#wpadminbar');
	console.log('dashboard=' + page.url());
}

// The block editor: a title, one paragraph, Publish and its confirmation.
async function publish(page, title, body) {
	await visit(page, base + '/wp-admin/post-new.php');
	const title_field = page.locator('[aria-label="Add title"]');
	await title_field.waitFor();
	// The first visit shows the editor's welcome guide over the page.
	const guide = page.locator('.edit-post-welcome-guide');
	if (await guide.count()) {
		await page.keyboard.press('Escape');
		await guide.waitFor({ state: 'detached' });
	}
	await title_field.click();
	await page.keyboard.type(title);
	await page.keyboard.press('Enter');
	await page.keyboard.type(body);
	await page.click('.editor-post-publish-panel__toggle');
	await page.click('.editor-post-publish-panel .editor-post-publish-button');
	const link = page.locator('.post-publish-panel__postpublish-header a');
	await link.first().waitFor({ timeout: 60000 });
	console.log('permalink=' + await link.first().getAttribute('href'));
}

// The media uploader (plupload, as a person drops a file on it).
async function upload(page, file) {
	await visit(page, base + '/wp-admin/media-new.php');
	await page.setInputFiles('#plupload-upload-ui input[type=file]', file);
	const copy = page.locator('.media-item .copy-attachment-url');
	await copy.first().waitFor({ timeout: 60000 });
	console.log('file_url=' +
	    await copy.first().getAttribute('data-clipboard-text'));
}

// The permalink settings: WordPress offers plain /YYYY/... structures only
// when it believes the server rewrites URLs (got_url_rewrite(), from
// SERVER_SOFTWARE), else every choice starts with /index.php/.
async function permalinks(page) {
	await visit(page, base + '/wp-admin/options-permalink.php');
	const html = await page.content();
	console.log('index_php_prefix=' +
	    (html.includes(base + '/index.php/') ? 'yes' : 'no'));
	console.log('day_and_name=' + (html.includes(base + '/' +
	    new Date().getUTCFullYear() + '/') ? 'yes' : 'no'));
}

async function run() {
	const browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		    '--disable-quic', '--no-first-run',
		    '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
	});
	try {
		const context = await browser.newContext(
		    fs.existsSync(state) ? { storageState: state } : {});
		context.setDefaultTimeout(30000);
		const page = await context.newPage();
		if (step === 'install')
			await install(page);
		else if (step === 'login')
			await login(page);
		else if (step === 'publish')
			await publish(page, args[0], args[1]);
		else if (step === 'upload')
			await upload(page, args[0]);
		else if (step === 'permalinks')
			await permalinks(page);
		else
			throw new Error('unknown step ' + step);
		await context.storageState({ path: state });
	} finally {
		await browser.close();
	}
}

run().catch((e) => {
	console.log('error=' + String(e).split('\n')[0]);
	console.error(e);
	process.exit(1);
});
