/**
 * The reference of each Lambda function (issue 11, point 5): a minimal module importing only the AWS
 * clients and Powertools utilities the function needs by its job, declared here with the reason for
 * each client, not derived from the function's own imports. Every function also gets Logger, Metrics
 * and Tracer (functions/shared/observability.ts). Reasons follow the grants in lib/constructs/ and the
 * handler in functions/handlers/.
 */

/** An SDK client the reference creates: package, class, why the function needs it. */
interface Client {
  readonly pkg: string;
  readonly cls: string;
}

const C = {
  dynamodb: { pkg: '@aws-sdk/client-dynamodb', cls: 'DynamoDBClient' },
  s3: { pkg: '@aws-sdk/client-s3', cls: 'S3Client' },
  sfn: { pkg: '@aws-sdk/client-sfn', cls: 'SFNClient' },
  secrets: { pkg: '@aws-sdk/client-secrets-manager', cls: 'SecretsManagerClient' },
  sts: { pkg: '@aws-sdk/client-sts', cls: 'STSClient' },
  kms: { pkg: '@aws-sdk/client-kms', cls: 'KMSClient' },
  scheduler: { pkg: '@aws-sdk/client-scheduler', cls: 'SchedulerClient' },
  cognito: { pkg: '@aws-sdk/client-cognito-identity-provider', cls: 'CognitoIdentityProviderClient' },
  sqs: { pkg: '@aws-sdk/client-sqs', cls: 'SQSClient' },
  ses: { pkg: '@aws-sdk/client-sesv2', cls: 'SESv2Client' },
  bedrock: { pkg: '@aws-sdk/client-bedrock-runtime', cls: 'BedrockRuntimeClient' },
} as const satisfies Record<string, Client>;

type ClientName = keyof typeof C;

/** What a function needs: clients with the reason for each, plus extra modules imported whole. */
export interface Needs {
  readonly clients: Partial<Record<ClientName, string>>;
  /** Whether items are read through the document client (`@aws-sdk/lib-dynamodb`). */
  readonly documentClient: boolean;
  /** Other SDK modules the job needs, with the reason (e.g. the S3 presigner). */
  readonly modules?: Readonly<Record<string, string>>;
}

const TENANT_DATA = 'assumes the tenant data role for tenant-scoped credentials (bindTenantDataRole)';
const ITEMS = "reads and writes the table's items";
const PUBLISH = 'raises notifications onto the delivery queue (bindPublisher)';

/** Per function (file name in functions/handlers/ without `.ts`). */
export const REFERENCES: Readonly<Record<string, Needs>> = {
  api: {
    documentClient: true,
    clients: {
      dynamodb: ITEMS,
      sts: TENANT_DATA,
      s3: 'artifacts and tenant exports (download URLs)',
      sfn: 'publishes, starts, stops and redrives workflows; answers approval tasks (bindWorkflowControl)',
      secrets: 'tenant secrets (PUT/DELETE /secrets)',
      kms: "the audit signing key's public key (GET /audit/public-key, bindVerifier)",
      scheduler: 'tenant schedules (bindScheduleControl)',
      cognito: 'users and identity providers in the user pool',
      sqs: PUBLISH,
    },
    modules: { '@aws-sdk/s3-request-presigner': 'presigned export and artifact URLs' },
  },
  'approval-handler': {
    documentClient: true,
    clients: { dynamodb: ITEMS, sts: TENANT_DATA, sqs: PUBLISH },
  },
  'audit-stream': {
    documentClient: true,
    clients: {
      dynamodb: 'digests and record expiry',
      s3: 'writes the audit archive',
      kms: 'signs digests (kms:Sign)',
    },
    modules: { '@aws-sdk/util-dynamodb': 'unmarshalls stream images' },
  },
  authorizer: {
    documentClient: true,
    clients: { dynamodb: 'resolves users, API keys and tenants', sts: TENANT_DATA },
  },
  'lifecycle-handler': {
    documentClient: true,
    clients: {
      dynamodb: 'erases and exports items',
      sts: TENANT_DATA,
      s3: 'writes exports, erases tenant objects',
      cognito: 'deletes logins (AdminDeleteUser)',
      sfn: "deletes the tenant's state machines, stops executions",
      secrets: "erases the tenant's secrets",
    },
  },
  'notification-delivery': {
    documentClient: true,
    clients: {
      dynamodb: 'channels and delivery records',
      sts: TENANT_DATA,
      ses: 'sends email',
      sqs: 're-queues a failed delivery with a delay',
      secrets: 'webhook signing secrets and Slack URLs',
    },
  },
  'schedule-fire': {
    documentClient: true,
    clients: { dynamodb: ITEMS, sts: TENANT_DATA, sfn: 'starts the schedule’s workflow' },
  },
  'sso-trigger': {
    documentClient: true,
    clients: { dynamodb: 'provisions federated users just in time', sts: TENANT_DATA },
  },
  'status-handler': {
    documentClient: true,
    clients: { dynamodb: ITEMS, sts: TENANT_DATA, sqs: PUBLISH },
  },
  'step-runner': {
    documentClient: true,
    clients: {
      dynamodb: ITEMS,
      sts: TENANT_DATA,
      bedrock: 'calls the agents’ models',
      secrets: 'secret bindings of tools and providers',
      s3: 'offloads large step outputs to artifacts',
      sqs: 'budget alerts (bindPublisher)',
    },
  },
};

/** `Logger, Metrics, Tracer, DynamoDBClient (why), …` for RESULTS.md. */
export function describeNeeds(needs: Needs): string {
  return [
    ...Object.entries(needs.clients).map(([name, why]) => `${C[name as ClientName].cls} (${why})`),
    ...(needs.documentClient ? ['DynamoDBDocumentClient'] : []),
    ...Object.entries(needs.modules ?? {}).map(([pkg, why]) => `${pkg} (${why})`),
  ].join('; ');
}

/** The reference module (plain ESM): each client created once, wrapped by the tracer, and nothing else. */
export function referenceSource(name: string, needs: Needs): string {
  const clients = Object.keys(needs.clients).map((n) => C[n as ClientName]);
  const modules = Object.keys(needs.modules ?? {});
  return [
    `// Generated by bench/references.ts for functions/handlers/${name}.ts.`,
    "import { Logger } from '@aws-lambda-powertools/logger';",
    "import { Metrics } from '@aws-lambda-powertools/metrics';",
    "import { Tracer } from '@aws-lambda-powertools/tracer';",
    ...clients.map((c) => `import { ${c.cls} } from '${c.pkg}';`),
    ...(needs.documentClient ? ["import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';"] : []),
    ...modules.map((pkg, i) => `import * as module${i} from '${pkg}';`),
    'const tracer = new Tracer();',
    `const created = [new Logger(), new Metrics(), tracer, ${clients.map((c) => `tracer.captureAWSv3Client(new ${c.cls}({}))`).join(', ')}];`,
    // The document client wraps the DynamoDB client (the fourth created, after the three utilities).
    ...(needs.documentClient
      ? [`created.push(DynamoDBDocumentClient.from(created[${3 + clients.indexOf(C.dynamodb)}]));`]
      : []),
    ...modules.map((_, i) => `created.push(module${i});`),
    'export const handler = async () => ({ statusCode: 200, body: String(created.length) });',
    '',
  ].join('\n');
}
