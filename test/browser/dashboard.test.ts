/**
 * The dashboard in a real browser: playwright-core driving Debian's chromium against the COMPILED binary (its
 * pages are the ones bundled into the executable). Two journeys, as the issue names them, and a screenshot of
 * every page at 1280 px and 360 px under test/artifacts/ (ignored by git; CI keeps them).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { BROWSER_UA, trackedLink } from '../helpers/market';
import { ADMIN_TOKEN, REPO_ROOT, eventually, startGateway, type Gateway } from '../e2e/binary.helpers';

const CHROMIUM = process.env.VEXRAIL_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARTIFACTS = join(REPO_ROOT, 'test', 'artifacts');
const QUESTION = 'What project management tool can help my team track tasks and deadlines?';
const ORGANIC = 'Many teams use a shared board to plan work and track deadlines.';
const PASSWORD = 'a long enough password';
const PRODUCTS = [
  { sku: 'KB-1', name: 'Kanbanix Boards', description: 'Visual task boards that help small teams plan projects, track deadlines and share progress.', url: 'https://kanbanix.example.com/boards', keywords: ['project management', 'kanban', 'task tracking'], category: 'productivity_software' },
  { sku: 'KB-2', name: 'Kanbanix Timeline', description: 'Gantt timelines for project plans with dependencies and milestones.', url: 'https://kanbanix.example.com/timeline', keywords: ['project planning', 'gantt'], category: 'productivity_software' },
];

let upstream: FakeUpstream;
let gw: Gateway;
let browser: Browser;
const contexts: BrowserContext[] = [];
let operator: Page;
let publisher: Page;
let advertiser: Page;
let publisherProject = '';
let advertiserProject = '';
let keys = { pk: '', sk: '' };
/** Anything the page's Content-Security-Policy refused (the console reports it): must stay empty. */
const cspViolations: string[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => { throw new Error(`page error: ${e.message}`); });
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  return page;
}

/** Opens the page afresh (a hash change alone would keep the page and its data). */
async function go(page: Page, hash: string) {
  await page.goto('about:blank');
  await page.goto(`${gw.url}/${hash}`);
  await page.waitForLoadState('networkidle');
}

async function shoot(page: Page, name: string) {
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The operator creates an invitation in the browser; the new account accepts it in its own browser. */
async function invite(email: string, role: 'Publisher' | 'Advertiser'): Promise<Page> {
  await go(operator, '#/operator/accounts');
  await operator.getByLabel('Email').fill(email);
  if (role === 'Advertiser') {
    await operator.getByLabel('Publisher', { exact: true }).uncheck();
    await operator.getByLabel('Advertiser', { exact: true }).check();
  }
  await operator.getByRole('button', { name: 'Create invitation' }).click();
  const link = (await operator.getByTestId('invite-link').textContent())!;
  const page = await newPage();
  await page.goto(link);
  await page.getByLabel('Name').fill(email.split('@')[0]);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.getByRole('link', { name: 'Overview' }).waitFor();
  return page;
}

async function createProject(page: Page, kind: 'publisher' | 'advertiser', name: string, domain: string): Promise<string> {
  await go(page, `#/${kind}/projects`);
  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Domain').fill(domain);
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.waitForURL(/\/projects\/proj_[^/]+\/settings$/);
  return /projects\/(proj_[^/]+)\//.exec(page.url())![1];
}

/** The operator marks the project's domain verified and adds money, in the browser. */
async function operatorApproves(projectName: string, amount: string) {
  await go(operator, '#/operator');
  const row = operator.getByRole('row', { name: new RegExp(projectName) });
  await row.getByRole('button', { name: 'Mark verified' }).click();
  await row.getByRole('button', { name: 'Mark verified' }).waitFor({ state: 'detached' });
  await row.getByRole('button', { name: /Add (credits|funds)/ }).click();
  await operator.getByLabel('Amount (USD)').fill(amount);
  await operator.getByRole('button', { name: `Add $${amount}` }).click();
  await operator.getByRole('dialog').waitFor({ state: 'hidden' });
}

/**
 * Run in the page (as source text: this file is type-checked without the DOM library). First contentful paint
 * from navigation start, and the bytes of the page and its assets (the API's JSON left out), as transferred.
 */
const FIRST_RENDER_PROBE = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const assets = performance.getEntriesByType('resource').filter((r) => !r.name.includes('/dashboard/api/'));
  return { fcp: fcp ? fcp.startTime : null, assets: assets.length + 1, assetBytes: nav.transferSize + assets.reduce((n, r) => n + r.transferSize, 0) };
})()`;

/** WCAG 2 contrast ratios of the theme's text colors on the backgrounds they are used on. */
const contrastProbe = (theme: string) => `((theme) => {
  document.documentElement.dataset.theme = theme;
  const css = getComputedStyle(document.documentElement);
  const rgb = (name) => {
    const probe = document.createElement('span');
    probe.style.color = css.getPropertyValue(name).trim();
    document.body.append(probe);
    const parts = getComputedStyle(probe).color.match(/\\d+/g).map(Number);
    probe.remove();
    return parts.slice(0, 3);
  };
  const lum = (c) => c.map((x) => { const v = x / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }).reduce((n, v, i) => n + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const pairs = [['--text', '--bg'], ['--text', '--surface'], ['--muted', '--bg'], ['--muted', '--surface'], ['--accent', '--surface'], ['--accent', '--bg'],
    ['--accent-text', '--accent'], ['--ok', '--ok-bg'], ['--warn', '--warn-bg'], ['--bad', '--bad-bg'], ['--info', '--info-bg'], ['--bad', '--surface'],
    ['--text', '--info-bg'], ['--text', '--warn-bg']];
  return pairs.map(([fg, bg]) => [fg + ' on ' + bg, Math.round(ratio(fg, bg) * 100) / 100]);
})(${JSON.stringify(theme)})`;

const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', defaultHeaders: { 'x-publishable-key': keys.pk, 'x-secret-key': keys.sk } });

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install chromium (.ci/run does this), or set VEXRAIL_CHROMIUM');
  mkdirSync(ARTIFACTS, { recursive: true });
  upstream = await startFakeUpstream();
  gw = await startGateway({ upstreamUrl: upstream.baseUrl });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  operator = await newPage();
}, 60_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await gw?.stop();
  await upstream?.close();
});

describe('dashboard in chromium against the compiled binary', () => {
  test('operator: first visit sets up the operator account with the admin token', async () => {
    await go(operator, '');
    await shoot(operator, 'sign-in-setup');
    await operator.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await operator.getByLabel('Email').fill('ops@example.com');
    await operator.getByLabel('Name').fill('Ops');
    await operator.getByLabel('Password').fill('operator password');
    await operator.getByRole('button', { name: 'Create operator account' }).click();
    await operator.getByRole('heading', { name: 'All projects' }).waitFor();
  }, 30_000);

  test('publisher journey: sign in, create a project, operator verifies and tops up, keys, a chat completion in conversations with its cost, monetization on', async () => {
    publisher = await invite('pat@example.com', 'Publisher');
    publisherProject = await createProject(publisher, 'publisher', 'Pat Assistant', 'pat-assistant.example.com');
    await expect(publisher.getByText('TXT')).toBeTruthy();
    await operatorApproves('Pat Assistant', '10.00');

    await go(publisher, `#/publisher/projects/${publisherProject}/keys`);
    await publisher.getByLabel('Key name').fill('Production');
    await publisher.getByRole('button', { name: 'Create key pair' }).click();
    keys = { pk: (await publisher.getByTestId('publishable-key').textContent())!, sk: (await publisher.getByTestId('secret-key').textContent())! };
    expect(keys.sk).toStartWith('sk_');
    await shoot(publisher, 'publisher-keys');

    upstream.script({ kind: 'normal', content: 'The Louvre is in Paris, on the Right Bank of the Seine.' });
    const answer = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Where is the Louvre?' }] }, { headers: { 'x-conversation-id': 'trip-paris' } });
    expect(answer.choices[0].message.content).toContain('Louvre');

    // The conversation appears (conversation writes are batched off the request path) with its cost.
    await eventually(async () => {
      await go(publisher, `#/publisher/projects/${publisherProject}/conversations`);
      return (await publisher.getByRole('button', { name: 'trip-paris' }).count()) > 0;
    }, 10_000, 250);
    await shoot(publisher, 'publisher-conversations');
    await publisher.getByRole('button', { name: 'trip-paris' }).click();
    const cost = await publisher.getByTestId('message-cost').textContent();
    expect(cost).toMatch(/cost \$0\.0\d+/);
    await publisher.getByText('Where is the Louvre?').first().waitFor();
    await shoot(publisher, 'publisher-conversation-drawer');
    await publisher.keyboard.press('Escape');

    await go(publisher, `#/publisher/projects/${publisherProject}/settings`);
    await publisher.getByRole('switch').click();
    await publisher.getByText('Monetization is on').waitFor();
    await shoot(publisher, 'publisher-settings');

    await go(publisher, `#/publisher/projects/${publisherProject}/wallet`);
    const balance = await publisher.getByTestId('balance').textContent();
    expect(balance).toMatch(/^\$9\.9\d+/);
    await shoot(publisher, 'publisher-credits');
  }, 90_000);

  test('advertiser journey: import products, create and activate a campaign, an impression and a click from a promoted answer in analytics', async () => {
    advertiser = await invite('ann@example.com', 'Advertiser');
    advertiserProject = await createProject(advertiser, 'advertiser', 'Kanbanix', 'kanbanix.example.com');
    await operatorApproves('Kanbanix', '50.00');

    await go(advertiser, `#/advertiser/projects/${advertiserProject}/products`);
    await advertiser.getByRole('button', { name: 'Import JSON Lines' }).click();
    const jsonl = [...PRODUCTS.map((p) => JSON.stringify(p)), '{"name": "no url"}'].join('\n');
    await advertiser.getByLabel('JSON Lines file').setInputFiles({ name: 'products.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(jsonl) });
    await advertiser.getByRole('button', { name: 'Import', exact: true }).click();
    const report = advertiser.getByTestId('import-report');
    await report.waitFor();
    expect(await report.textContent()).toContain('2 created');
    expect(await report.textContent()).toContain('1 failed');
    await advertiser.getByRole('cell', { name: '3' }).first().waitFor(); // the failed line's number in the error report
    await shoot(advertiser, 'advertiser-import');
    await advertiser.getByRole('button', { name: 'Close' }).click();

    await go(advertiser, `#/advertiser/projects/${advertiserProject}/campaigns`);
    await advertiser.getByRole('button', { name: 'New campaign' }).click();
    await advertiser.getByLabel('Campaign name').fill('Spring boards');
    await advertiser.getByLabel('Context').fill('teams planning projects');
    await advertiser.getByLabel('Maximum bid per click (USD)').fill('0.40');
    await advertiser.getByLabel('Budget (USD)').fill('20.00');
    await advertiser.getByRole('button', { name: 'Save campaign' }).click();
    await advertiser.getByRole('button', { name: 'Activate' }).click();
    await advertiser.getByText('active', { exact: true }).waitFor();
    await shoot(advertiser, 'advertiser-campaigns');

    // The monetized publisher's next answer carries the promotion; a browser follows its tracked link.
    upstream.script({ kind: 'normal', content: ORGANIC });
    const answer = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] }, { headers: { 'x-conversation-id': 'team-tools' } });
    const link = trackedLink(answer.choices[0].message.content!);
    expect(link).not.toBeNull();
    const click = await fetch(link!, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } });
    expect(click.status).toBe(302);

    await eventually(async () => {
      await go(advertiser, `#/advertiser/projects/${advertiserProject}/analytics`);
      const impressions = await advertiser.getByTestId('impressions').textContent();
      const clicks = await advertiser.getByTestId('clicks').textContent();
      return impressions === '1' && clicks === '1';
    }, 15_000, 500);
    await shoot(advertiser, 'advertiser-analytics');
    // Filtered to the publisher it ran on (by its domain): the same impression and click.
    await advertiser.getByLabel('Publisher').selectOption({ label: 'pat-assistant.example.com' });
    await advertiser.getByRole('cell', { name: 'pat-assistant.example.com' }).waitFor();
    expect(await advertiser.getByTestId('impressions').textContent()).toBe('1');

    // The publisher sees the promotion and its click in the conversation.
    await go(publisher, `#/publisher/projects/${publisherProject}/conversations`);
    await publisher.getByRole('button', { name: 'team-tools' }).click();
    await publisher.getByText('clicked (charged)').waitFor();
  }, 120_000);

  test('every page, at 1280 px and 360 px, renders without a page error', async () => {
    const pages: Array<[Page, string, string]> = [
      [publisher, '#/publisher', 'publisher-overview'],
      [publisher, '#/publisher/projects', 'publisher-projects'],
      [publisher, `#/publisher/projects/${publisherProject}/earnings`, 'publisher-earnings'],
      [publisher, '#/account', 'account'],
      [advertiser, '#/advertiser', 'advertiser-overview'],
      [advertiser, '#/advertiser/projects', 'advertiser-projects'],
      [advertiser, `#/advertiser/projects/${advertiserProject}/products`, 'advertiser-products'],
      [advertiser, `#/advertiser/projects/${advertiserProject}/wallet`, 'advertiser-funds'],
      [advertiser, `#/advertiser/projects/${advertiserProject}/settings`, 'advertiser-settings'],
      [operator, '#/operator', 'operator-projects'],
      [operator, '#/operator/accounts', 'operator-accounts'],
      [operator, '#/operator/revenue', 'operator-revenue'],
      [operator, '#/operator/clicks', 'operator-clicks'],
      [operator, '#/operator/settings', 'operator-settings'],
    ];
    for (const [page, hash, name] of pages) {
      await go(page, hash);
      await page.getByRole('main').waitFor();
      expect(await page.locator('[role=alert]').count(), `${name} shows an error`).toBe(0);
      await shoot(page, name);
    }
    // The operator changes the publisher's share and puts the config file's back.
    await go(operator, '#/operator/settings');
    await operator.getByLabel('Publisher share (%)').fill('65');
    await operator.getByRole('button', { name: 'Save share and hold' }).click();
    await operator.getByText('share from the dashboard').waitFor();
    await operator.getByRole('button', { name: 'Use config values' }).click();
    await operator.getByText('share from the config').waitFor();
    // First render and the bytes of the initial load, measured in a browser context with an empty cache.
    const cold = await browser.newContext({ viewport: { width: 1280, height: 900 }, storageState: await publisher.context().storageState() });
    contexts.push(cold);
    const fresh = await cold.newPage();
    await fresh.goto(`${gw.url}/#/publisher`);
    await fresh.getByRole('heading', { name: 'Publisher overview' }).waitFor();
    await fresh.waitForLoadState('networkidle');
    const timing = (await fresh.evaluate(FIRST_RENDER_PROBE)) as { fcp: number | null; assetBytes: number; assets: number };
    writeFileSync(join(ARTIFACTS, 'first-render.json'), JSON.stringify(timing, null, 2));
    expect(timing.fcp).not.toBeNull();
    expect(timing.fcp!).toBeLessThan(1_000);
    expect(timing.assets).toBeGreaterThanOrEqual(3);
    expect(timing.assetBytes).toBeLessThan(300 * 1024);

    // Text contrast (WCAG 2 ratio) of every text color on the surfaces it is used on, in both themes.
    for (const theme of ['light', 'dark']) {
      const ratios = (await operator.evaluate(contrastProbe(theme))) as Array<[string, number]>;
      writeFileSync(join(ARTIFACTS, `contrast-${theme}.json`), JSON.stringify(Object.fromEntries(ratios), null, 2));
      for (const [pair, r] of ratios) expect(`${theme} ${pair}: ${r >= 4.5 ? 'ok' : r}`).toBe(`${theme} ${pair}: ok`);
    }
    await operator.evaluate(`document.documentElement.dataset.theme = 'auto'`);

    // No page broke the Content-Security-Policy; framed by another page, the dashboard does not render.
    expect(cspViolations).toEqual([]);
    const framer = await newPage();
    await framer.setContent(`<iframe src="${gw.url}/#/operator" width="800" height="400"></iframe>`);
    const frame = framer.frameLocator('iframe');
    await frame.getByText('does not run inside another page').waitFor();
    expect(await frame.getByRole('heading', { name: 'All projects' }).count()).toBe(0);

    // Dark mode renders too.
    await operator.getByLabel('Theme').selectOption('dark');
    await shoot(operator, 'operator-projects-dark');
  }, 120_000);
});
