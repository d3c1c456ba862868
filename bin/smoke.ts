/**
 * Smoke test of a running Meridian: the README walkthrough (a scripted agent, a workflow with a
 * choice and an approval, promotion, an idempotent start, the approval decided by a second person,
 * the result with tokens and cost, the month's usage), then its own clean-up. Works against the
 * local platform and against a stack on AWS:
 *
 *   npm run smoke -- --api http://127.0.0.1:3000 --demo .local/demo.json
 *   npm run smoke -- --api <ApiUrl> --user-pool-id <UserPoolId> --client-id <UserPoolClientId> \
 *     --username admin@example.com --password '…' --approver-username ops@example.com --approver-password '…'
 *   npm run smoke -- --api <ApiUrl> --api-key mk_… --approver-api-key mk_…
 *
 * Every flag also reads an environment variable (see {@link FLAGS}). Exits 0 when every check passed.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';

/** The command-line flags, each with the environment variable that can stand in for it. */
export const FLAGS = Object.freeze({
  api: 'MERIDIAN_API_URL',
  demo: 'MERIDIAN_DEMO_FILE',
  'api-key': 'MERIDIAN_API_KEY',
  'approver-api-key': 'MERIDIAN_APPROVER_API_KEY',
  token: 'MERIDIAN_TOKEN',
  'approver-token': 'MERIDIAN_APPROVER_TOKEN',
  'user-pool-id': 'MERIDIAN_USER_POOL_ID',
  'client-id': 'MERIDIAN_CLIENT_ID',
  username: 'MERIDIAN_USERNAME',
  password: 'MERIDIAN_PASSWORD',
  'approver-username': 'MERIDIAN_APPROVER_USERNAME',
  'approver-password': 'MERIDIAN_APPROVER_PASSWORD',
  region: 'AWS_REGION',
  'cognito-endpoint': 'MERIDIAN_COGNITO_ENDPOINT',
  'timeout-seconds': 'MERIDIAN_SMOKE_TIMEOUT_SECONDS',
} as const);

type Flag = keyof typeof FLAGS;
/** Parsed options: flag values, with the environment filling what the command line left out. */
export type SmokeOptions = Partial<Record<Flag, string>>;

/** A credential as the API takes it. */
export type Credential = { readonly token: string } | { readonly apiKey: string };

/** Thrown for a bad command line; the message says what to pass. */
export class UsageError extends Error {}

/** Reads `--flag value` and `--flag=value` pairs; the environment fills the rest. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SmokeOptions {
  const out: SmokeOptions = {};
  for (const [flag, variable] of Object.entries(FLAGS) as [Flag, string][]) {
    const value = env[variable];
    if (value) out[flag] = value;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--'))
      throw new UsageError(`Unexpected argument ${arg}: flags look like --api <url>.`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!(name in FLAGS)) {
      throw new UsageError(
        `Unknown flag --${name}. Known: ${Object.keys(FLAGS)
          .map((f) => `--${f}`)
          .join(', ')}`,
      );
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value.`);
    out[name as Flag] = value;
  }
  if (!out.api)
    throw new UsageError('--api <url> is required (or MERIDIAN_API_URL): the ApiUrl stack output.');
  return out;
}

async function signIn(
  cognito: { endpoint?: string; clientId: string; region: string },
  username: string,
  password: string,
): Promise<Credential> {
  const client = new CognitoIdentityProviderClient({
    region: cognito.region,
    ...(cognito.endpoint
      ? // cognito-local takes any credentials; never send a developer's real ones there.
        { endpoint: cognito.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  try {
    // InitiateAuth with USER_PASSWORD_AUTH is unauthenticated: no AWS credentials are needed.
    const out = await client.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: cognito.clientId,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    const token = out.AuthenticationResult?.AccessToken;
    if (!token) {
      throw new Error(
        `sign-in of ${username} returned no token (challenge ${out.ChallengeName ?? 'none'}: finish it once in the hosted login)`,
      );
    }
    return { token };
  } finally {
    client.destroy();
  }
}

/** The requester's and the approver's credentials from the options (demo file, tokens, keys or Cognito). */
export async function credentialsOf(
  options: SmokeOptions,
): Promise<{ requester: Credential; approver?: Credential }> {
  if (options.demo) {
    const demo = JSON.parse(await readFile(options.demo, 'utf8')) as {
      cognito: { endpoint: string; clientId: string };
      users: { username: string; password: string; roles: string[] }[];
    };
    const admin = demo.users.find((u) => u.roles.includes('admin'));
    const operator = demo.users.find((u) => u.roles.includes('operator'));
    if (!admin) throw new UsageError(`${options.demo} names no admin user.`);
    const cognito = { endpoint: demo.cognito.endpoint, clientId: demo.cognito.clientId, region: 'us-east-1' };
    return {
      requester: await signIn(cognito, admin.username, admin.password),
      ...(operator ? { approver: await signIn(cognito, operator.username, operator.password) } : {}),
    };
  }
  const cognito = options['client-id']
    ? {
        clientId: options['client-id'],
        region: options.region ?? regionOfPool(options['user-pool-id']) ?? 'us-east-1',
        ...(options['cognito-endpoint'] ? { endpoint: options['cognito-endpoint'] } : {}),
      }
    : undefined;
  const one = async (prefix: '' | 'approver-'): Promise<Credential | undefined> => {
    const token = options[`${prefix}token`];
    const apiKey = options[`${prefix}api-key`];
    const username = options[`${prefix}username`];
    const password = options[`${prefix}password`];
    if (token) return { token };
    if (apiKey) return { apiKey };
    if (username && password) {
      if (!cognito) throw new UsageError('Signing in needs --client-id (and --user-pool-id or --region).');
      return signIn(cognito, username, password);
    }
    return undefined;
  };
  const requester = await one('');
  if (!requester) {
    throw new UsageError(
      'No credential: pass --demo <demo.json>, --token, --api-key, or --client-id --user-pool-id --username --password.',
    );
  }
  const approver = await one('approver-');
  return { requester, ...(approver ? { approver } : {}) };
}

/** A user pool id is `<region>_<id>`. */
function regionOfPool(poolId: string | undefined): string | undefined {
  const region = poolId?.split('_')[0];
  return region && /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? region : undefined;
}

/** One line of the report. */
export interface SmokeStep {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Raised by a failed check; the runner records it and stops. */
class CheckFailed extends Error {}

/**
 * Runs the walkthrough against `api` and cleans up what it created. Resolves with every step's
 * outcome; `ok` is false when any failed.
 */
export async function runSmoke(input: {
  readonly api: string;
  readonly requester: Credential;
  readonly approver?: Credential;
  readonly timeoutMs?: number;
  readonly log?: (step: SmokeStep) => void;
}): Promise<{ ok: boolean; steps: SmokeStep[] }> {
  const api = input.api.replace(/\/+$/, '');
  const timeoutMs = input.timeoutMs ?? 60_000;
  const steps: SmokeStep[] = [];
  const record = (name: string, ok: boolean, detail: string): void => {
    const step = { name, ok, detail };
    steps.push(step);
    input.log?.(step);
  };
  const call = async <T>(
    who: Credential,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        ...headers,
        ...('token' in who ? { authorization: `Bearer ${who.token}` } : { 'x-api-key': who.apiKey }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text for the message
    }
    return { status: response.status, body: parsed as T };
  };
  const expectStatus = <T>(name: string, got: { status: number; body: T }, want: number): T => {
    if (got.status !== want) {
      throw new CheckFailed(
        `${name}: expected ${want}, got ${got.status} ${JSON.stringify(got.body).slice(0, 500)}`,
      );
    }
    return got.body;
  };
  const poll = async <T>(name: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last = await read();
    while (!done(last)) {
      if (Date.now() > deadline)
        throw new CheckFailed(
          `${name}: still ${JSON.stringify(last).slice(0, 300)} after ${timeoutMs / 1000} s`,
        );
      await new Promise((resolve) => setTimeout(resolve, 500));
      last = await read();
    }
    return last;
  };
  const step = async <T>(name: string, run: () => Promise<{ value: T; detail: string }>): Promise<T> => {
    try {
      const { value, detail } = await run();
      record(name, true, detail);
      return value;
    } catch (error) {
      record(name, false, error instanceof Error ? error.message : String(error));
      throw error;
    }
  };

  const admin = input.requester;
  // Without a second person the approval step allows its requester (README: self-approval).
  const approver = input.approver ?? admin;
  const run = `smoke-${Date.now().toString(36)}`;
  let agentId: string | undefined;
  let workflowId: string | undefined;
  try {
    await step('the API is up (GET /health/ready)', async () => {
      const response = await fetch(`${api}/health/ready`);
      if (!response.ok) throw new CheckFailed(`GET /health/ready answered ${response.status}`);
      return { value: undefined, detail: `${response.status}` };
    });
    await step('signed in (GET /me)', async () => {
      const me = expectStatus('GET /me', await call<{ tenantId?: string }>(admin, 'GET', '/me'), 200);
      return { value: me, detail: `tenant ${me.tenantId ?? '?'}` };
    });
    agentId = await step('a scripted agent (POST /agents)', async () => {
      const body = expectStatus(
        'POST /agents',
        await call<{ agentId: string }>(admin, 'POST', '/agents', {
          name: `${run}-triage`,
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
        201,
      );
      return { value: body.agentId, detail: body.agentId };
    });
    workflowId = await step('a workflow: agent, choice, approval, agent (POST /workflows)', async () => {
      const body = expectStatus(
        'POST /workflows',
        await call<{ workflowId: string }>(admin, 'POST', '/workflows', {
          name: `${run}-refunds`,
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
              timeoutSeconds: 3600,
              ...(input.approver ? {} : { allowRequesterApproval: true }),
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
        201,
      );
      return { value: body.workflowId, detail: body.workflowId };
    });
    await step('version 1 promoted to dev', async () => {
      const response = await call(admin, 'POST', `/workflows/${workflowId}/promotions`, {
        version: 1,
        environment: 'dev',
      });
      if (response.status !== 200 && response.status !== 201) expectStatus('POST promotions', response, 200);
      return { value: undefined, detail: `${response.status}` };
    });
    const start = () =>
      call<{ executionId: string }>(
        admin,
        'POST',
        `/workflows/${workflowId}/executions`,
        { input: { text: 'I want a refund for order 42' } },
        { 'idempotency-key': `${run}-order-42` },
      );
    const executionId = await step('an execution started, and the same key returns it again', async () => {
      const first = await start();
      if (first.status !== 201 && first.status !== 202) expectStatus('POST executions', first, 202);
      const again = await start();
      if (again.body.executionId !== first.body.executionId) {
        throw new CheckFailed(
          `the same Idempotency-Key started ${again.body.executionId}, not ${first.body.executionId}`,
        );
      }
      return { value: first.body.executionId, detail: first.body.executionId };
    });
    type Execution = {
      status: string;
      steps?: { stepId: string; output?: unknown }[];
      costUsd?: string | number;
      usage?: { inputTokens: number; outputTokens: number };
    };
    const read = async () =>
      expectStatus('GET execution', await call<Execution>(admin, 'GET', `/executions/${executionId}`), 200);
    await step('it waits for approval', async () => {
      const execution = await poll('WAITING_APPROVAL', read, (e) => e.status !== 'RUNNING');
      if (execution.status !== 'WAITING_APPROVAL')
        throw new CheckFailed(`status ${execution.status}, expected WAITING_APPROVAL`);
      return { value: undefined, detail: execution.status };
    });
    const approvalId = await step('the approval is listed for the approver (GET /approvals)', async () => {
      const found = await poll(
        'approval listed',
        async () =>
          expectStatus(
            'GET /approvals',
            await call<{ items: { approvalId: string; executionId?: string }[] }>(
              approver,
              'GET',
              '/approvals',
            ),
            200,
          ).items.find((a) => a.executionId === executionId),
        (a) => a !== undefined,
      );
      return { value: found?.approvalId ?? '', detail: found?.approvalId ?? '' };
    });
    await step('approved by someone other than the starter', async () => {
      const response = await call(approver, 'POST', `/approvals/${approvalId}/decision`, {
        decision: 'approve',
        comment: 'smoke',
      });
      if (response.status >= 300) expectStatus('POST decision', response, 200);
      return { value: undefined, detail: `${response.status}` };
    });
    await step('it succeeds, every step with its output, tokens and cost', async () => {
      const execution = await poll(
        'SUCCEEDED',
        read,
        (e) => e.status !== 'RUNNING' && e.status !== 'WAITING_APPROVAL',
      );
      if (execution.status !== 'SUCCEEDED')
        throw new CheckFailed(`status ${execution.status}: ${JSON.stringify(execution).slice(0, 500)}`);
      const ran = (execution.steps ?? []).map((s) => s.stepId);
      for (const id of ['classify', 'approve', 'reply']) {
        if (!ran.includes(id)) throw new CheckFailed(`step ${id} missing from ${ran.join(', ')}`);
      }
      const tokens = (execution.usage?.inputTokens ?? 0) + (execution.usage?.outputTokens ?? 0);
      if (tokens !== 220) throw new CheckFailed(`expected 220 tokens (the script's), got ${tokens}`);
      return {
        value: undefined,
        detail: `steps ${ran.join(' → ')}; ${tokens} tokens; cost ${execution.costUsd ?? '?'} USD`,
      };
    });
    await step("the month's usage (GET /usage)", async () => {
      const usage = expectStatus(
        'GET /usage',
        await call<Record<string, unknown>>(admin, 'GET', '/usage'),
        200,
      );
      return { value: usage, detail: JSON.stringify(usage).slice(0, 120) };
    });
  } catch {
    // Recorded by `step`; clean up below.
  } finally {
    if (workflowId) {
      const response = await call(admin, 'DELETE', `/workflows/${workflowId}`).catch(() => ({ status: 0 }));
      record('clean-up: workflow deleted', response.status === 204, `${response.status}`);
    }
    if (agentId) {
      const response = await call(admin, 'DELETE', `/agents/${agentId}`).catch(() => ({ status: 0 }));
      record('clean-up: agent deleted', response.status === 204, `${response.status}`);
    }
  }
  return { ok: steps.every((s) => s.ok), steps };
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let options: SmokeOptions;
  let credentials: Awaited<ReturnType<typeof credentialsOf>>;
  try {
    options = parseArgs(process.argv.slice(2));
    credentials = await credentialsOf(options);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  const result = await runSmoke({
    api: options.api ?? '',
    ...credentials,
    timeoutMs: Number(options['timeout-seconds'] ?? 60) * 1000,
    log: (s) => console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${s.detail}`),
  });
  console.log(result.ok ? 'Smoke test passed.' : 'Smoke test FAILED.');
  process.exit(result.ok ? 0 : 1);
}

// Run as a command (npm run smoke); imported by the tests, it only exports.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
