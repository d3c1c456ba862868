import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The README walkthrough through the console in a real Chromium: sign in, create an agent and a
 * workflow, promote and run it, see self-approval refused with its reason, approve as a second
 * user, read the cost; then every page passes axe-core (no serious or critical violation) and is
 * screenshotted into test-results/console/.
 */

const apiUrl = inject('apiUrl');
const demo = inject('demo');
const consoleUrl = `${apiUrl}/console/`;
const SHOTS = 'test-results/console';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function user(prefix: string): { username: string; password: string } {
  const found = demo.users.find((u) => u.username.startsWith(prefix));
  if (!found) throw new Error(`no demo user ${prefix}`);
  return found;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these Chromium waits on the network for updates and sync, and hangs on a closed network.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Content-Security-Policy violations and uncaught errors the pages report: there must be none. */
const pageProblems: string[] = [];

function watch(p: Page): void {
  p.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) {
      pageProblems.push(message.text());
    }
  });
  p.on('pageerror', (error) => pageProblems.push(error.message));
}

/** In-app navigation: a new hash, never a reload (a reload forgets the in-memory session). */

/**
 * Runs in the page (a function, not a string: the CSP forbids eval, which string predicates need).
 * Typed through globalThis because this file is checked without the DOM library.
 */
function requestsSettled(): boolean {
  const doc = (globalThis as { document?: { body: { dataset: Record<string, string | undefined> } } })
    .document;
  return doc?.body.dataset.pending === '0';
}

async function go(p: Page, hash: string): Promise<void> {
  // Page-side code is given as strings: this file is type-checked for Node, without the DOM library.
  await p.evaluate(`window.location.hash = ${JSON.stringify(hash)}`);
}

/** A fresh load of the console (a new, signed-out session), then the sign-in form. */
async function signIn(p: Page, who: { username: string; password: string }, hash = ''): Promise<void> {
  await p.goto(`${consoleUrl}${hash}`);
  await p.getByLabel('Email').fill(who.username);
  await p.getByLabel('Password').fill(who.password);
  await p.getByRole('button', { name: 'Sign in', exact: true }).click();
  await p.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function signOut(p: Page): Promise<void> {
  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.getByLabel('Email').waitFor();
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** axe-core on the page as it is; returns the serious and critical violations. */
async function axe(p: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (a script tag would be refused).
  await p.evaluate(axeSource);
  const violations = await p.evaluate<AxeViolation[]>('axe.run().then((result) => result.violations)');
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Every API request the console made has been answered, and the result drawn. */
async function settled(p: Page): Promise<void> {
  await p.waitForFunction(requestsSettled);
  await p.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

async function shoot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  watch(page);
});

afterAll(async () => {
  await browser?.close();
});

describe('console walkthrough', () => {
  let agentId = '';
  let workflowId = '';
  let executionId = '';

  it('serves the console with a strict CSP and the sign-in configuration', async () => {
    const response = await fetch(consoleUrl);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const config = (await (await fetch(`${consoleUrl}config.json`)).json()) as Record<string, unknown>;
    expect(config.passwordSignIn).toEqual({
      cognitoEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      clientId: demo.cognito.clientId,
    });
    // Nothing outside the build folder is readable through the console path.
    expect((await fetch(`${apiUrl}/console/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${apiUrl}/console/.vite/manifest.json`)).status).toBe(404);
  });

  it('refuses a wrong password with the reason, then signs the admin in with tokens in memory only', async () => {
    await page.goto(consoleUrl);
    await shoot(page, '00-sign-in');
    expect(await axe(page)).toEqual([]);
    await page.getByLabel('Email').fill(user('admin@').username);
    await page.getByLabel('Password').fill('Wrong-password-1!');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/password/i);
    await signIn(page, user('admin@'));
    const stored = await page.evaluate<string>(
      'JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie',
    );
    expect(stored).not.toMatch(/eyJ/); // no JWT anywhere the page can persist
  });

  it('creates an agent through the form, after the published schema refused a bad one', async () => {
    await go(page, `#/agents`);
    const editor = page.getByRole('textbox', { name: /^Agent definition/ });
    await editor.fill(JSON.stringify({ name: 'triage', provider: 'nope', model: 'scripted-1', extra: 1 }));
    await page.getByRole('button', { name: 'Create agent' }).click();
    const errors = page.getByTestId('schema-errors');
    await expect.poll(() => errors.textContent()).toContain('provider');
    expect(await errors.textContent()).toContain('extra');
    await editor.fill(
      JSON.stringify({
        name: 'triage',
        provider: 'scripted',
        model: 'scripted-1',
        script: [
          { match: 'refund', reply: '{"label":"refund"}', usage: { inputTokens: 120, outputTokens: 8 } },
          {
            match: 'approved',
            reply: 'We have refunded your order.',
            usage: { inputTokens: 80, outputTokens: 12 },
          },
          { reply: '{"label":"other"}' },
        ],
      }),
    );
    // A double click creates one agent: the editor is busy from the first, its schema check included.
    await page.getByRole('button', { name: 'Create agent' }).dblclick();
    await page.waitForURL(/#\/agents\/agents\/[A-Za-z0-9_-]+$/);
    agentId = decodeURIComponent(page.url().split('/').pop() ?? '');
    expect(agentId).not.toBe('');
    await page.getByRole('heading', { name: 'triage (v1)' }).waitFor();
    await page.waitForLoadState('networkidle');
    await go(page, '#/agents');
    await page.getByRole('link', { name: 'triage', exact: true }).first().waitFor();
    expect(await page.getByRole('link', { name: 'triage', exact: true }).count()).toBe(1);
    await go(page, `#/agents/agents/${encodeURIComponent(agentId)}`);
    await page.getByRole('heading', { name: 'triage (v1)' }).waitFor();
  });

  it('creates the workflow, draws its graph, promotes it and starts it', async () => {
    await go(page, `#/workflows`);
    await page.getByRole('textbox', { name: /^Workflow definition/ }).fill(
      JSON.stringify({
        name: 'refunds',
        inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
        startAt: 'classify',
        steps: {
          classify: { type: 'agent', agentId, prompt: '{{input.text}}', next: 'route' },
          route: {
            type: 'choice',
            choices: [
              { when: { path: 'steps.classify.output.data.label', equals: 'refund' }, next: 'approve' },
            ],
            default: 'done',
          },
          approve: {
            type: 'approval',
            message: 'Refund this customer?',
            timeoutSeconds: 86400,
            next: 'reply',
          },
          reply: {
            type: 'agent',
            agentId,
            prompt: 'approved by {{steps.approve.output.decidedBy}}',
            next: 'done',
          },
          done: { type: 'succeed' },
        },
      }),
    );
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.waitForURL(/#\/workflows\/[A-Za-z0-9_-]+$/);
    workflowId = decodeURIComponent(page.url().split('/').pop() ?? '');
    // elkjs laid out five steps and four transitions.
    const graph = page.locator('figure.graph svg');
    await graph.waitFor();
    expect(await graph.locator('g.node').count()).toBe(5);
    expect(await graph.locator('polyline.edge').count()).toBe(5);
    await page.getByRole('form', { name: 'Promote' }).getByRole('button', { name: 'Promote' }).click();
    await page.getByText('v1 now runs in dev.').waitFor();
    await expect.poll(() => page.getByTestId('env-dev').textContent()).toBe('v1');
    await page.getByLabel('Input (JSON object)').fill('{"text":"I want a refund for order 42"}');
    await page.getByLabel('Idempotency key (optional)').fill('order-42');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL(/#\/executions\/[A-Za-z0-9_-]+$/);
    executionId = decodeURIComponent(page.url().split('/').pop() ?? '');
    await expect
      .poll(() => page.getByTestId('execution-status').textContent(), { timeout: 20_000 })
      .toBe('WAITING APPROVAL');
  });

  it('shows the starter why they cannot approve, with the buttons disabled', async () => {
    await go(page, `#/approvals`);
    const card = page.locator('li.card', { hasText: 'Refund this customer?' });
    await card.waitFor();
    expect(await card.getByTestId('self-approval-reason').textContent()).toMatch(
      /You started this execution; someone else/,
    );
    expect(await card.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
    expect(await card.getByRole('button', { name: 'Reject' }).isDisabled()).toBe(true);
  });

  it('lets a second user (the operator) approve with a comment, then the admin reads the result and the cost', async () => {
    await signOut(page);
    await signIn(page, user('operator@'));
    await go(page, `#/approvals`);
    const card = page.locator('li.card', { hasText: 'Refund this customer?' });
    await card.getByLabel('Comment').fill('ok');
    expect(await card.getByTestId('self-approval-reason').count()).toBe(0);
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('No pending approvals.').waitFor();
    await signOut(page);

    await signIn(page, user('admin@'));
    await go(page, `#/executions/${executionId}`);
    await expect
      .poll(() => page.getByTestId('execution-status').textContent(), { timeout: 20_000 })
      .toBe('SUCCEEDED');
    // The timeline has every step that ran (choice and succeed are transitions, not steps) with its
    // duration, tokens and cost.
    const timeline = page.getByRole('list', { name: 'Steps' });
    await expect.poll(() => timeline.locator('li').count()).toBe(3);
    const steps = await timeline.locator('li .timeline-head').allTextContents();
    expect(steps[0]).toMatch(/^classify.*agent.*SUCCEEDED.*\d+(\.\d)? (ms|s).*120 in \/ 8 out tokens.*\$/);
    expect(steps[1]).toMatch(/^approve.*approval.*SUCCEEDED/);
    expect(steps[2]).toMatch(/^reply.*agent.*SUCCEEDED.*80 in \/ 12 out tokens/);
    const cost = await page.getByTestId('execution-cost').textContent();
    expect(cost).toMatch(/^\$\d+(\.\d+)?$/);
    // The cost shown is the API's, to the digit.
    const token = await apiToken(user('admin@'));
    const detail = (await (
      await fetch(`${apiUrl}/executions/${executionId}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      costUsd: string;
      steps: { stepId: string; output?: { decidedBy?: string; comment?: string } }[];
    };
    expect(cost).toBe(`$${detail.costUsd}`);
    const approve = detail.steps.find((s) => s.stepId === 'approve');
    expect(approve?.output?.comment).toBe('ok');

    await go(page, `#/usage`);
    await expect
      .poll(() => page.getByTestId('usage-total-cost').textContent(), { timeout: 15_000 })
      .toMatch(/^\$\d/);
    expect(await page.getByTestId('usage-total-executions').textContent()).toBe('1');
    expect(await page.getByTestId('usage-by-workflow').textContent()).toContain(workflowId);
    expect(await page.getByTestId('usage-by-agent').textContent()).toContain(agentId);
    // The budget and its thresholds, set through the form.
    const budget = page.getByRole('form', { name: 'Set the budget' });
    await budget.getByLabel('Monthly limit (USD)').fill('10');
    await budget.getByLabel(/Alert thresholds/).fill('50, 80');
    await budget.getByRole('button', { name: 'Save budget' }).click();
    await expect.poll(() => page.getByTestId('budget-thresholds').textContent()).toBe('Alerts at 50 %, 80 %');
    await page.getByText(/of \$10(\.0+)? \(/).waitFor();
  });

  it('saves a new workflow version, shows the diff, and rolls back', async () => {
    await go(page, `#/workflows/${workflowId}`);
    const editor = page.getByRole('textbox', { name: /^Definition of the next version/ });
    const definition = JSON.parse(await editor.inputValue()) as {
      steps: Record<string, { message?: string }>;
    };
    const approve = definition.steps.approve;
    if (!approve) throw new Error('no approve step in the editor');
    approve.message = 'Refund this customer now?';
    await editor.fill(JSON.stringify(definition));
    await page.getByRole('button', { name: 'Save as new version' }).click();
    await page.getByRole('link', { name: 'v2' }).waitFor();
    // The diff of v1 → v2 names the changed step and field.
    await expect
      .poll(() => page.getByTestId('workflow-diff').textContent())
      .toContain('~ step approve: message');
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    await page.getByText('(rollback to v1)').waitFor();
    // A rollback makes a new version; what runs in dev does not change.
    await expect.poll(() => page.getByTestId('env-dev').textContent()).toBe('v1');
  });

  it('shows an API key once, rotates and revokes it; secrets are write-only', async () => {
    await go(page, '#/keys');
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByLabel('Name').fill('ci');
    await form.getByLabel('executions:read').check();
    // A double click submits once: the form is busy until the answer.
    await form.getByRole('button', { name: 'Create key' }).dblclick();
    const first = await page.getByTestId('new-api-key').textContent();
    expect(first).toMatch(/^mk_/);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByTestId('new-api-key').count()).toBe(0);
    expect(await page.locator('main').textContent()).not.toContain(first);
    await page.waitForLoadState('networkidle');
    await go(page, '#/keys');
    await page.getByRole('button', { name: 'Rotate ci' }).waitFor();
    expect(await page.getByRole('button', { name: 'Rotate ci' }).count()).toBe(1);
    // Rotating and revoking ask first: dismissed, nothing changes.
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    await page.getByRole('button', { name: 'Rotate ci' }).click();
    await expect.poll(() => asked).toBe('Rotate ci? The key in use now stops working.');
    expect(await page.getByTestId('new-api-key').count()).toBe(0);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Rotate ci' }).click();
    const rotated = await page.getByTestId('new-api-key').textContent();
    expect(rotated).toMatch(/^mk_/);
    expect(rotated).not.toBe(first);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke ci' }).click();
    // Revoked: no longer offered for rotation or revocation.
    await page.getByRole('button', { name: 'Revoke ci' }).waitFor({ state: 'detached' });
    expect(await page.getByRole('button', { name: 'Rotate ci' }).count()).toBe(0);

    await go(page, '#/secrets');
    const secret = page.getByRole('form', { name: 'Write a secret' });
    const value = 'sk-console-test-value-0042';
    await secret.getByLabel('Name').fill('openai-key');
    await secret.getByLabel('Value').fill(value);
    await secret.getByRole('button', { name: 'Save secret' }).click();
    await page.getByText('Secret openai-key saved.').waitFor();
    await page.getByRole('cell', { name: 'openai-key', exact: true }).waitFor();
    expect(await secret.getByLabel('Value').inputValue()).toBe('');
    expect(await page.content()).not.toContain(value);
  });

  it('invites a user, changes their roles, and erases them', async () => {
    await go(page, '#/access');
    const email = `console-${Date.now()}@demo.meridian.local`;
    const invite = page.getByRole('form', { name: 'Invite a user' });
    await invite.getByLabel('Email').fill(email);
    await invite.getByLabel('Role').selectOption('viewer');
    await invite.getByRole('button', { name: 'Invite' }).click();
    const roles = page.getByRole('form', { name: `Roles of ${email}` });
    await roles.waitFor();
    const chosen = async () => (await roles.locator('option:checked').allTextContents()).sort();
    expect(await chosen()).toEqual(['viewer']);
    await roles.getByRole('listbox').selectOption(['auditor', 'operator']);
    // The save is a PATCH; wait for its answer before leaving, or the page could leave first.
    const saved = page.waitForResponse(
      (r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname.startsWith('/users/'),
    );
    await roles.getByRole('button', { name: 'Save roles' }).click();
    expect((await saved).status()).toBe(200);
    // Leave and come back: the page fetches the users again, so this reads the stored roles.
    await go(page, '#/keys');
    await go(page, '#/access');
    await roles.waitFor();
    expect(await chosen()).toEqual(['auditor', 'operator']);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Erase ${email}` }).click();
    await page.getByRole('button', { name: `Erase ${email}` }).waitFor({ state: 'detached' });
    expect(await page.locator('main').textContent()).not.toContain(email);
  });

  it('passes axe-core (no serious or critical violation) on every page, with screenshots', async () => {
    // Each page, its heading, and something that shows its data has arrived and been drawn.
    const pages: [string, string, string, string][] = [
      ['01-executions', '#/executions', 'Executions', `a:text("${executionId}")`],
      ['02-execution-detail', `#/executions/${executionId}`, `Execution ${executionId}`, 'ol.timeline li'],
      ['03-approvals', '#/approvals?status=approved', 'Approvals', 'li.card'],
      ['04-workflows', '#/workflows', 'Workflows', 'a:text("refunds")'],
      ['05-workflow-detail', `#/workflows/${workflowId}`, 'Workflow refunds', 'figure.graph svg'],
      ['06-agents', '#/agents', 'Agents and tools', 'a:text("triage")'],
      ['07-tools', '#/agents/tools', 'Agents and tools', 'textarea'],
      ['08-usage', '#/usage', 'Usage and cost', '.chart canvas'],
      ['09-audit', '#/audit', 'Audit', 'tbody tr'],
      ['10-api-keys', '#/keys', 'API keys', 'fieldset.scopes'],
      ['11-access', '#/access', 'Users, teams and roles', 'td:text("operator@demo.meridian.local")'],
      ['12-secrets', '#/secrets', 'Secrets', 'form[aria-label="Write a secret"]'],
    ];
    const found: Record<string, AxeViolation[]> = {};
    for (const [name, hash, title, ready] of pages) {
      await go(page, hash);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      await page.locator(ready).first().waitFor();
      await settled(page);
      await shoot(page, name);
      const violations = await axe(page);
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
    expect(pageProblems).toEqual([]);
  });
});

describe('session', () => {
  it('refreshes the access token before it expires and revokes the refresh token on sign-out', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    watch(p);
    const targets: { target: string; body: string }[] = [];
    p.on('request', (request) => {
      const target = request.headers()['x-amz-target'];
      if (target) targets.push({ target, body: request.postData() ?? '' });
    });
    await p.clock.install();
    // A page without live polling: the fake clock would otherwise run a day of two-second polls.
    await signIn(p, user('viewer@'), '#/workflows');
    // Jump to just before the token's expiry (cognito-local issues one-day tokens): the console
    // refreshes it with the refresh token and keeps working.
    await p.clock.runFor(24 * 3600 * 1000 - 30_000);
    await expect.poll(() => targets.some((t) => t.body.includes('REFRESH_TOKEN_AUTH'))).toBe(true);
    await go(p, `#/executions`);
    await p.getByRole('heading', { level: 1, name: 'Executions' }).waitFor();
    await signOut(p);
    await expect.poll(() => targets.some((t) => t.target.endsWith('.RevokeToken'))).toBe(true);
    await ctx.close();
    expect(pageProblems).toEqual([]);
  });
});

async function apiToken(who: { username: string; password: string }): Promise<string> {
  const response = await fetch(demo.cognito.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: demo.cognito.clientId,
      AuthParameters: { USERNAME: who.username, PASSWORD: who.password },
    }),
  });
  const json = (await response.json()) as { AuthenticationResult: { AccessToken: string } };
  return json.AuthenticationResult.AccessToken;
}
