import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The console's "Sign in with SSO" in a real Chromium: the console sends the browser through the
 * local platform (`/local/sso/authorize`) to the local OpenID provider, the person picks their
 * account there, and comes back to the console signed in with the roles their groups map to.
 */

const apiUrl = inject('apiUrl');
const demo = inject('demo');
const consoleUrl = `${apiUrl}/console/`;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;

interface AxeViolation {
  id: string;
  impact: string | null;
}

/** axe-core on the page as it is (through DevTools, which no CSP governs): serious and critical only. */
async function axe(p: Page): Promise<AxeViolation[]> {
  await p.evaluate(axeSource);
  const violations = await p.evaluate<AxeViolation[]>('axe.run().then((result) => result.violations)');
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

function account(group: string): string {
  const email = demo.sso?.accounts.find((a) => a.groups.includes(group))?.email;
  if (!email) throw new Error(`no demo SSO account in ${group}`);
  return email;
}

/** A fresh browser context (no session), watching for CSP violations and uncaught errors. */
async function freshPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { page, problems };
}

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
});

afterAll(async () => {
  await browser?.close();
});

describe('console single sign-on (local OpenID provider)', () => {
  it('offers SSO in config.json with same-origin endpoints the CSP allows', async () => {
    const response = await fetch(consoleUrl);
    const csp = response.headers.get('content-security-policy') ?? '';
    const config = (await (await fetch(`${consoleUrl}config.json`)).json()) as Record<string, unknown>;
    expect(config.sso).toEqual({
      authorizeUrl: '/local/sso/authorize',
      tokenUrl: '/local/sso/token',
      clientId: 'console',
      label: 'Sign in with SSO (local OpenID provider)',
    });
    // The token POST is same-origin: 'self' in connect-src covers it.
    expect(csp).toMatch(/connect-src 'self'/);
  });

  it('signs a developer in through the provider and shows what the developer role permits', async () => {
    const { page, problems } = await freshPage();
    await page.goto(`${consoleUrl}#/workflows`);
    await page.getByRole('button', { name: 'Sign in with SSO (local OpenID provider)' }).click();

    // At the local OpenID provider: one link per account.
    await page.getByRole('heading', { name: 'Sign in as' }).waitFor();
    expect(new URL(page.url()).origin).toBe(demo.sso?.issuer);
    expect(await axe(page)).toEqual([]);
    await page.getByRole('link', { name: account('engineering') }).click();

    // Back in the console, signed in, on the page it left from, without the code in the address.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(page.url()).toBe(`${consoleUrl}#/workflows`);
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
    await expect.poll(() => page.locator('.who').textContent()).toContain(account('engineering'));
    const nav = page.getByRole('navigation', { name: 'Sections' });
    await nav.getByRole('link', { name: 'Agents and tools' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Users, teams and roles' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    const stored = await page.evaluate<string>(
      'JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie',
    );
    expect(stored).not.toMatch(/eyJ/); // the tokens stay in memory
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows the refusal in the console when no group of the person maps to a role', async () => {
    const { page, problems } = await freshPage();
    await page.goto(consoleUrl);
    await page.getByRole('button', { name: 'Sign in with SSO (local OpenID provider)' }).click();
    await page.getByRole('link', { name: account('visitors') }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/refused.*mapped/i);
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    expect(page.url()).toBe(consoleUrl);
    expect(await axe(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
