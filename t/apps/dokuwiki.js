// DokuWiki in headless Chromium, for t/80-apps.bats:
//
//   node dokuwiki.js BASE PAGE TEXT
//
// opens PAGE's editor at its nice URL (BASE/PAGE?do=edit), types TEXT,
// saves, and prints "saved=URL" (where DokuWiki went after saving) and
// "shown=yes" when the saved page shows TEXT; exits 1 with the reason
// otherwise.  Everything it opens is on BASE (loopback).
'use strict';
const { chromium } = require('playwright-core');

const [base, id, text] = process.argv.slice(2);

// page.goto, failing at once with the status when the page is an error
// (the flow would only time out on a missing form later).
async function visit(page, url) {
	const res = await page.goto(url);
	if (!res || res.status() >= 400)
		throw new Error('GET ' + url + ': status ' +
		    (res ? res.status() : 'none'));
	return res;
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
		const page = await browser.newPage();
		page.setDefaultTimeout(30000);
		await visit(page, base + '/' + id + '?do=edit');
		await page.fill('#wiki__text', text);
		await Promise.all([
			page.waitForNavigation(),
			page.click('#edbtn__save'),
		]);
		console.log('saved=' + page.url());
		await page.locator('.page').getByText(text).first().waitFor();
		console.log('shown=yes');
	} finally {
		await browser.close();
	}
}

run().catch((e) => {
	console.log('error=' + String(e).split('\n')[0]);
	console.error(e);
	process.exit(1);
});
