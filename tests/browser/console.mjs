// Browser test of the supervisor's console on the demo data: headless Chromium (Debian's
// package) driven by playwright-core. Checks that the console without its printed link shows
// nothing, opens it with the link (the token leaves the address bar), opens the review queue, approves the escalated
// assessment, checks the worker's device shows the verdict after sync, and saves screenshots
// of the queue and the reports page. Prints one line per check and a closing
// "browser: N passed, M failed" line that scripts/test.sh adds to its total.
//
// Environment: PLAYWRIGHT_DIR (where playwright-core was installed), CONSOLE_URL (the
// console's address), CONSOLE_LINK (the link with the token the console printed), DEMO_DIR,
// EROPAF (the binary), CHROMIUM (the browser), ARTEFACTS (screenshot directory).

import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const url = process.env.CONSOLE_URL;
const link = process.env.CONSOLE_LINK;
const residents = /Aïsha|Samir|Willem|Haddad|Bakker|Amrani/;
const demo = process.env.DEMO_DIR;
const eropaf = process.env.EROPAF;
const artefacts = process.env.ARTEFACTS;
mkdirSync(artefacts, { recursive: true });

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
  }
}

function cli(home, ...args) {
  return execFileSync(eropaf, ['--home', path.join(demo, home), ...args], {
    env: { ...process.env, EROPAF_PASSPHRASE: 'demo-wachtwoord' },
    encoding: 'utf8',
  });
}

const timings = {};
function recordTiming(response) {
  const header = response.headers()['server-timing'] || '';
  const match = /dur=([0-9.]+)/.exec(header);
  if (match && response.request().resourceType() === 'document') {
    const key = new URL(response.url()).pathname.replace(/[0-9a-f]{32}/g, ':id');
    (timings[key] ||= []).push(Number(match[1]));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ['--no-sandbox'],
});
try {
  // Without the printed link: a browser that only knows the address gets no case data.
  const stranger = await browser.newPage();
  const refused = await stranger.goto(`${url}/`);
  const refusedText = await stranger.locator('body').innerText();
  check('without the printed link the console refuses', refused.status() === 401, String(refused.status()));
  check('without the printed link no case data is shown', !residents.test(refusedText) && (await stranger.locator('table').count()) === 0, refusedText.slice(0, 200));
  const refusedCases = await stranger.goto(`${url}/casussen`);
  check('without the printed link the case list stays closed', refusedCases.status() === 401 && !residents.test(await stranger.locator('body').innerText()));
  await stranger.close();

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'nl-NL' });
  const page = await context.newPage();
  page.on('response', recordTiming);
  const policyViolations = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
  });

  // The printed link opens the console and the token leaves the address bar.
  await page.goto(link);
  check('the printed link opens the console without the token in the address bar', page.url() === `${url}/`, page.url());
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name.startsWith('eropaf_console_'));
  check('the session cookie is HttpOnly and SameSite=Strict', session && session.httpOnly && session.sameSite === 'Strict', JSON.stringify(session));

  // The review queue: the escalated assessment of the statushouder waits there.
  check('the queue page is Dutch and titled', (await page.locator('h1').innerText()) === 'Beoordelingswachtrij');
  const headerColour = await page.locator('header').evaluate((el) => getComputedStyle(el).backgroundColor);
  check('the stylesheet applies under the Content-Security-Policy', headerColour === 'rgb(22, 58, 95)', headerColour);
  const row = page.locator('table.queue tbody tr', { hasText: 'Samir Haddad' });
  check('the escalated assessment is in the queue', (await row.count()) === 1);
  check('it shows as escalated', (await row.innerText()).includes('Geëscaleerd'));
  await page.screenshot({ path: path.join(artefacts, 'console-review-queue.png'), fullPage: true });
  const assessmentId = await row.getAttribute('data-assessment');

  // The case page: visits, the assessment with its justification, the access log.
  await row.getByRole('link', { name: 'Beoordelen' }).click();
  await page.waitForLoadState();
  check('the case page shows the resident', (await page.locator('h1').innerText()) === 'Samir Haddad');
  const body = await page.locator('main').innerText();
  check('the case page shows the visit', body.includes('huisarts'));
  check('the case page shows the justification', body.includes('Weging van de waarden'));
  check('the access log lists the supervisor opening the case', (await page.locator('table.log').innerText()).includes('Geopend'));
  await page.screenshot({ path: path.join(artefacts, 'console-case.png'), fullPage: true });
  const caseUrl = page.url();
  check('the case page has the full case number in its address', /\/casus\/[0-9a-f]{32}(#|$)/.test(caseUrl), caseUrl);

  // The inzage document keeps its own style under its hash-only policy.
  const inzageUrl = new URL('inzage', `${caseUrl.split('#')[0]}/`).href;
  const inzage = await context.newPage();
  inzage.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
  });
  await inzage.goto(inzageUrl);
  const inzageWidth = await inzage.locator('body').evaluate((el) => getComputedStyle(el).maxWidth);
  check('the inzage document shows with its own style', inzageWidth === '800px', inzageWidth);
  await inzage.close();

  // Approve, with a note for the worker.
  const form = page.locator(`#afweging-${assessmentId} form.review`);
  await form.locator('textarea').fill('Het regionale overleg is akkoord: ontheffing voor twee jaar.');
  await Promise.all([page.waitForURL(/\?m=/), form.getByRole('button', { name: 'Goedkeuren' }).click()]);
  check('the console confirms the approval', (await page.locator('.flash.ok').innerText()).includes('Goedgekeurd'));
  check('no sync warning after approving', (await page.locator('.flash.warn').count()) === 0);
  check('the approved assessment left the queue', (await page.locator('table.queue tbody tr', { hasText: 'Samir Haddad' }).count()) === 0);

  // The worker's device after sync.
  cli('sanne', 'sync', '--json');
  const cases = JSON.parse(cli('sanne', 'case', 'list', '--json'));
  const samir = cases.find((c) => c.resident.name === 'Samir Haddad');
  const shown = JSON.parse(cli('sanne', 'case', 'show', samir.id, '--json'));
  const reviews = shown.reviews.filter((r) => r.assessment_id === assessmentId);
  const latest = reviews[reviews.length - 1];
  check("the worker's device shows the approval after sync", latest && latest.verdict === 'approved', JSON.stringify(latest));
  check("the worker's device shows the supervisor's note", latest && latest.note.includes('regionale overleg'));
  check('the approval replaces the escalation', latest && latest.supersedes && latest.supersedes.length === 1);

  // Access on request: Sanne asks for a case that is not hers; the team page shows the
  // request with its reason, the supervisor grants it, and Sanne's phone has the case.
  await page.goto(`${url}/casussen`);
  const listed = await page.locator('a[href^="/casus/"]').evaluateAll((links) => links.map((a) => a.getAttribute('href').split('/')[2]));
  const sannes = new Set(JSON.parse(cli('sanne', 'case', 'list', '--json')).map((c) => c.id));
  const notHers = listed.find((id) => /^[0-9a-f]{32}$/.test(id) && !sannes.has(id));
  check('the demo has a case Sanne may not read', Boolean(notHers));
  cli('sanne', 'access', 'request', notHers, '--reason', 'Bewoner belde over de brief van de woningcorporatie', '--urgent');
  cli('sanne', 'sync', '--json');
  await Promise.all([page.waitForURL(/\?m=/), page.getByRole('button', { name: 'Synchroniseren' }).click()]);
  await page.goto(`${url}/team`);
  const card = page.locator('section.card', { hasText: 'vraagt toegang' });
  check('the team page shows the request with its reason', (await card.count()) === 1 && (await card.innerText()).includes('brief van de woningcorporatie'));
  await card.locator('input[name="dagen"]').fill('2');
  await Promise.all([page.waitForURL(/\?m=/), card.getByRole('button', { name: 'Verlenen' }).click()]);
  check('the console confirms the grant', (await page.locator('.flash.ok').innerText()).includes('Toegang verleend voor 2 dag'));
  cli('sanne', 'sync', '--json');
  const granted = JSON.parse(cli('sanne', 'case', 'list', '--json')).map((c) => c.id);
  check("Sanne's phone has the case once granted", granted.includes(notHers));

  // The reports page with its charts.
  await page.goto(`${url}/rapportage`);
  check('the reports page has its charts', (await page.locator('.chart svg').count()) === 3);
  const reportText = await page.locator('main').innerText();
  check('the reports name no resident', !residents.test(reportText), reportText.slice(0, 200));
  await page.screenshot({ path: path.join(artefacts, 'console-reports.png'), fullPage: true });

  // The team sets how long phones stay unlocked; the form keeps to the core's range.
  await page.goto(`${url}/waardenkader`);
  const idle = page.locator('input[name="vergrendelen"]');
  check('the policy shows the default idle lock of 5 minutes', (await idle.inputValue()) === '5', await idle.inputValue());
  await idle.fill('2');
  const perFile = page.locator('input[name="bijlage_mb"]');
  check('the policy shows the default of 25 MB a file', (await perFile.inputValue()) === '25', await perFile.inputValue());
  await perFile.fill('10');
  await page.locator('input[name="bijlagen_wifi"]').check();
  await Promise.all([page.waitForURL(/\?m=/), page.getByRole('button', { name: 'Beleid opslaan' }).click()]);
  check('the console confirms the policy', (await page.locator('.flash.ok').innerText()).includes('teambeleid is opgeslagen'));
  check('the policy keeps the new idle lock', (await page.locator('input[name="vergrendelen"]').inputValue()) === '2');
  check('the policy keeps the new file limit', (await page.locator('input[name="bijlage_mb"]').inputValue()) === '10');
  check('the policy fetches files on Wi-Fi now', await page.locator('input[name="bijlagen_wifi"]').isChecked());
  check('photos still lose their place', !(await page.locator('input[name="fotolocatie"]').isChecked()));

  // The framework editor refuses a version that does not go up, with the reason.
  await page.goto(`${url}/waardenkader`);
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Nieuwe versie opslaan' }).click()]);
  check('the framework editor explains a refused version', (await page.locator('.flash.warn').innerText()).includes('verhoog het versienummer'));

  // Another Host header is refused (DNS rebinding).
  const foreign = await page.request.get(`${url}/`, { headers: { Host: 'evil.example' } });
  check('a request for another host is refused', foreign.status() === 421);
  check('the browser reported no Content-Security-Policy violation', policyViolations.length === 0, policyViolations.join(' | '));
} catch (error) {
  check('the browser test ran to the end', false, error.stack);
} finally {
  await browser.close();
}

for (const [page, values] of Object.entries(timings)) {
  console.log(`render time ${page}: ${values.map((v) => `${v.toFixed(1)} ms`).join(', ')}`);
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
