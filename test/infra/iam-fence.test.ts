import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { S3AuditArchive } from '#adapters/audit/s3-archive.ts';
import { keys } from '#adapters/dynamo/keys.ts';
import { DynamoLease } from '#adapters/dynamo/lease.ts';
import { Table } from '#adapters/dynamo/table.ts';
import { S3ArtifactStore } from '#adapters/s3-artifacts.ts';
import { digestKey, recordsKey } from '#core/audit/archiver.ts';
import { stagePrefix, stateMachineName, TENANT_TAG, WORKFLOW_TAG } from '#shared/resource-names.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import {
  AWS_CALLS,
  type AwsCall,
  FUNCTION_NAMES,
  type FunctionName,
  PLATFORM_ITEMS,
  type Target,
  TENANT_ITEM_TARGETS,
} from '../../lib/aws-calls.ts';
import { acknowledgedStarActions } from '../../lib/compliance.ts';
import type { MeridianFunction } from '../../lib/constructs/function.ts';
import {
  AUDIT_ARCHIVE_PREFIXES,
  TENANT_ARTIFACT_PREFIX,
  tenantSecretsPrefix,
} from '../../lib/constructs/tenant-data-role.ts';
import type { MeridianStack } from '../../lib/meridian-stack.ts';
import {
  ACCOUNT,
  type PolicyDocument,
  REGION,
  resolve,
  rolePolicies,
  type SimRequest,
  STREAM_LABEL,
  decide as simulate,
} from '../helpers/iam.ts';
import { logicalId, synthStage } from '../helpers/synth.ts';

/**
 * The second fence, proven offline: each function's role policies (and its tenant data role's, with
 * a `TenantId` session tag) from the synthesized templates of both stages, run through an IAM policy
 * simulator. Every call of lib/aws-calls.ts is allowed on the caller's own tenant and denied on
 * another's; dangerous actions are denied; and the list is checked against the code.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
// Generated tenant ids: `t` and 16 lowercase letters or digits (functions/core/ids.ts).
const OWN = 'town1aaaaaaaaaaaa';
// Another tenant, and one whose id extends ours (a prefix match would let `TENANT#tOwn1*` through).
const OTHERS = ['tother2aaaaaaaaaa', `${OWN}0`];
// The SES sender the stages are synthesized with: notification emails may come from it alone.
const NOTIFICATIONS_FROM = 'notifications@example.com';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

function functionOf(stack: MeridianStack, name: FunctionName): MeridianFunction {
  return {
    api: stack.api.apiFunction,
    authorizer: stack.api.authorizerFunction,
    stepRunner: stack.flows.stepRunner,
    approvalHandler: stack.flows.approvalHandler,
    statusHandler: stack.flows.statusHandler,
    auditStream: stack.auditStream.consumer,
    notificationDelivery: stack.notifications.deliveryFunction,
    scheduleFire: stack.schedules.fire,
    ssoTrigger: stack.api.ssoTrigger,
    lifecycle: stack.lifecycle.fn,
  }[name];
}

/**
 * The one platform-level function: it archives every tenant's audit records with its own role (a
 * batch mixes tenants), fenced to the audit partitions, archive prefixes and signing key instead.
 */
const PLATFORM_FUNCTIONS = new Set<FunctionName>(['auditStream']);
const TENANT_FUNCTIONS = FUNCTION_NAMES.filter((name) => !PLATFORM_FUNCTIONS.has(name));

interface RolePolicies {
  readonly arn: string;
  readonly policies: PolicyDocument[];
}

interface Roles {
  readonly fnRole: RolePolicies;
  /** The tenant data role; none for a platform-level function. */
  readonly tenantRole: RolePolicies | undefined;
}

function rolesOf(stack: MeridianStack, resources: Resources, name: FunctionName): Roles {
  const fn = functionOf(stack, name);
  const tenantRole = fn.tenantDataRole;
  if (!tenantRole && !PLATFORM_FUNCTIONS.has(name)) throw new Error(`${name} has no tenant data role`);
  const fnId = logicalId(stack, fn.role);
  const tenantId = tenantRole ? logicalId(stack, tenantRole) : undefined;
  return {
    fnRole: {
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${fnId}/fn`,
      policies: rolePolicies(resources, fnId),
    },
    tenantRole: tenantId
      ? {
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${tenantId}/tenant`,
          policies: rolePolicies(resources, tenantId),
        }
      : undefined,
  };
}

/** The concrete ARNs a stage's template resolves to. */
function arnsOf(stack: MeridianStack, resources: Resources) {
  const arn = (construct: Parameters<typeof logicalId>[1]) =>
    String(resolve({ 'Fn::GetAtt': [logicalId(stack, construct), 'Arn'] }, resources));
  const table = arn(stack.storage.table);
  return {
    table,
    index: `${table}/index/${TABLE_SCHEMA.gsi1.indexName}`,
    artifacts: arn(stack.storage.artifactsBucket),
    auditBucket: arn(stack.auditArchive.bucket),
    userPool: arn(stack.identity.userPool),
    workflowRole: arn(stack.flows.workflowRole),
    schedulerRole: arn(stack.schedules.schedulerRole),
    tableKey: arn(stack.storage.tableKey),
    artifactsKey: arn(stack.storage.artifactsKey),
    auditKey: arn(stack.auditArchive.key),
    signingKey: arn(stack.auditStream.signingKey),
    stream: `${table}/stream/${STREAM_LABEL}`,
    stepRunner: arn(stack.flows.stepRunner.function),
    notificationQueue: arn(stack.notifications.queue),
    notificationDeadLetterQueue: arn(stack.notifications.deadLetterQueue),
    tenantRoles: TENANT_FUNCTIONS.map((name) => {
      const role = functionOf(stack, name).tenantDataRole;
      if (!role) throw new Error(`${name} has no tenant data role`);
      return { name, arn: arn(role) };
    }),
  };
}

type Arns = ReturnType<typeof arnsOf>;

/** The request a call makes on `target` for `tenant`: resource ARN and the condition keys AWS sets. */
function requestFor(
  target: Target,
  tenant: string,
  stage: string,
  arns: Arns,
  fn: FunctionName,
): { resource: string; context: Record<string, string | string[]> } {
  const leading = (resource: string, key: string) => ({
    resource,
    context: { 'dynamodb:LeadingKeys': [key] },
  });
  const machine = stateMachineName(stagePrefix(stage), tenant, 'wf1');
  if (target.startsWith('platformItem:')) return leading(arns.table, target.slice('platformItem:'.length));
  if (target.startsWith('platformIndex:')) return leading(arns.index, target.slice('platformIndex:'.length));
  switch (target) {
    case 'tenantItem':
      return leading(arns.table, `TENANT#${tenant}`);
    case 'executionItem':
      return leading(arns.table, `TENANT#${tenant}#EXEC#x1`);
    case 'auditItem':
      return leading(arns.table, `TENANT#${tenant}#AUDIT`);
    case 'rateCounterItem':
      return leading(arns.table, `TENANT#${tenant}#RATE#7`);
    case 'runSlotItem':
      return leading(arns.table, `TENANT#${tenant}#RUNNING`);
    case 'tenantIndex':
      return leading(arns.index, `TENANT#${tenant}#EXECS`);
    case 'notificationItem':
      return leading(arns.table, `TENANT#${tenant}#NOTIFY`);
    case 'notificationQueue':
      return { resource: arns.notificationQueue, context: {} };
    case 'notificationDeadLetterQueue':
      return { resource: arns.notificationDeadLetterQueue, context: {} };
    case 'notificationSender':
      return {
        resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.com`,
        context: { 'ses:FromAddress': NOTIFICATIONS_FROM },
      };
    case 'tenantArtifact':
      return { resource: `${arns.artifacts}/tenants/${tenant}/executions/x1/step.json`, context: {} };
    case 'tenantArtifactListing':
      return { resource: arns.artifacts, context: { 's3:prefix': `tenants/${tenant}/` } };
    case 'lifecycleMachine':
      return {
        resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:meridian-lifecycle-${stage}-offboarding`,
        context: {},
      };
    case 'tenantSecret':
      return {
        resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${tenantSecretsPrefix(stage as 'dev')}/${tenant}/openai-AbC123`,
        context: {},
      };
    case 'tenantAuditDigest':
      return { resource: `${arns.auditBucket}/${digestKey(tenant, 7)}`, context: {} };
    case 'tenantAuditDigestListing':
      return {
        resource: arns.auditBucket,
        context: { 's3:prefix': `${AUDIT_ARCHIVE_PREFIXES.digests}${tenant}/` },
      };
    case 'everyTenantAuditItem':
      return leading(arns.table, `TENANT#${tenant}#AUDIT`);
    case 'archiveRecords':
      return {
        resource: `${arns.auditBucket}/${recordsKey(tenant, '2026-11-29T10', 'a1', 'a9')}`,
        context: {},
      };
    case 'archiveDigest':
      return { resource: `${arns.auditBucket}/${digestKey(tenant, 7)}`, context: {} };
    case 'signingKey':
      return { resource: arns.signingKey, context: {} };
    case 'auditBucket':
      return { resource: arns.auditBucket, context: {} };
    case 'userPool':
      return { resource: arns.userPool, context: {} };
    case 'tenantMachine':
      // The machine carries its tenant's tags: creating it sends them, changing it finds them.
      return {
        resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`,
        context: {
          [`aws:RequestTag/${TENANT_TAG}`]: tenant,
          [`aws:ResourceTag/${TENANT_TAG}`]: tenant,
          'aws:TagKeys': [TENANT_TAG, WORKFLOW_TAG],
        },
      };
    case 'tenantExecution':
      return { resource: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:key1`, context: {} };
    case 'taskToken':
      return { resource: '*', context: {} };
    case 'bedrockModel':
      return {
        resource: `arn:aws:bedrock:${REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0`,
        context: {},
      };
    case 'tenantDataRole': {
      const own = arns.tenantRoles.find((r) => r.name === fn);
      if (!own) throw new Error(`no tenant role for ${fn}`);
      return {
        resource: own.arn,
        context: { [`aws:RequestTag/${TENANT_TAG}`]: tenant, 'aws:TagKeys': [TENANT_TAG] },
      };
    }
    case 'workflowRole':
      return { resource: arns.workflowRole, context: { 'iam:PassedToService': 'states.amazonaws.com' } };
    case 'scheduleGroup':
      return {
        resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${stagePrefix(stage)}-${tenant}`,
        context: { [`aws:RequestTag/${TENANT_TAG}`]: tenant, 'aws:TagKeys': [TENANT_TAG] },
      };
    case 'schedule':
      return {
        resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${stagePrefix(stage)}-${tenant}/s1aaaaaaaaaaaaaaa`,
        context: {},
      };
    case 'schedulerRole':
      return {
        resource: arns.schedulerRole,
        context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      };
  }
  throw new Error(`Unknown target ${target}`);
}

/** Targets that belong to one tenant: the same call on another tenant's must be denied. */
const TENANT_TARGETS = new Set<Target>([
  ...TENANT_ITEM_TARGETS,
  'tenantArtifact',
  'tenantArtifactListing',
  'tenantSecret',
  'tenantAuditDigest',
  'tenantAuditDigestListing',
  'tenantMachine',
  'tenantExecution',
]);

/** Every `new XxxCommand(` in functions/ outside the domain core, as `file#Command`. */
function commandsInCode(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const match of readFileSync(path, 'utf8').matchAll(/new ([A-Z]\w*Command)\(/g)) {
          found.push(`${relative(ROOT, path)}#${match[1]}`);
        }
      }
    }
  };
  walk(join(ROOT, 'functions'));
  return [...new Set(found)].sort();
}

describe('the list of AWS calls (lib/aws-calls.ts)', () => {
  it('names every SDK command a file under functions/ sends', () => {
    const listed = new Set(AWS_CALLS.map((c) => `${c.file}#${c.command}`));
    const code = commandsInCode();
    expect(code.length).toBeGreaterThan(20);
    expect(code.filter((c) => !listed.has(c))).toEqual([]);
  });

  it('lists no command that the code no longer sends', () => {
    const code = new Set(commandsInCode());
    expect(AWS_CALLS.map((c) => `${c.file}#${c.command}`).filter((c) => !code.has(c))).toEqual([]);
  });

  it('keeps the domain core free of AWS calls', () => {
    const core = commandsInCode().filter((c) => c.startsWith('functions/core/'));
    expect(core).toEqual([]);
  });
});

describe('the artifact prefix', () => {
  it('is where the artifact store writes each tenant object', async () => {
    const sent: string[] = [];
    const client = {
      send: async (command: { input: { Key?: string } }) => {
        sent.push(String(command.input.Key));
        return {};
      },
    } as unknown as S3Client;
    const ref = await new S3ArtifactStore(async () => client, 'bucket').put(
      OWN,
      'executions/x1/step.json',
      '{}',
    );
    expect(sent).toEqual([`${TENANT_ARTIFACT_PREFIX}/${OWN}/executions/x1/step.json`]);
    expect(ref).toBe(`s3://bucket/${TENANT_ARTIFACT_PREFIX}/${OWN}/executions/x1/step.json`);
  });
});

describe('the app-client lease', () => {
  it("is the one item the API's lease statement and its declared calls name", async () => {
    // The lease as functions/adapters/wiring/api.ts builds it, its requests recorded.
    const sent: Record<string, unknown>[] = [];
    const db = {
      send: async (command: { input: { Key?: { pk: string }; Item?: { pk: string } } }) => {
        sent.push({ command: command.constructor.name, pk: (command.input.Key ?? command.input.Item)?.pk });
        return {};
      },
    } as unknown as DynamoDBDocumentClient;
    const lease = new DynamoLease(
      new Table('t', { platform: db, forTenant: async () => db }),
      keys.appClientLease,
    );
    await lease.run(async () => {});
    const pk = keys.appClientLease.pk;
    expect(sent).toEqual([
      { command: 'PutCommand', pk },
      { command: 'DeleteCommand', pk },
    ]);
    expect(PLATFORM_ITEMS.appClientLease.leadingKeys).toEqual([pk]);
    const declared = AWS_CALLS.filter((c) => c.file === 'functions/adapters/dynamo/lease.ts');
    expect(declared.map((c) => [c.command, c.targets, c.functions])).toEqual([
      ['PutCommand', [`platformItem:${pk}`], ['api']],
      ['DeleteCommand', [`platformItem:${pk}`], ['api']],
    ]);
  });
});

describe('the audit archive prefixes', () => {
  it('are where the archiver puts each tenant record file and digest', () => {
    expect(recordsKey(OWN, '2026-11-29T10', 'a1', 'a9')).toBe(
      `${AUDIT_ARCHIVE_PREFIXES.records}${OWN}/2026/11/29/10/a1-a9.jsonl`,
    );
    expect(digestKey(OWN, 7)).toBe(`${AUDIT_ARCHIVE_PREFIXES.digests}${OWN}/000000000007.json`);
  });

  it("are the only prefix the verifier lists and reads a tenant's digests under", async () => {
    const sent: { command: string; prefix?: string; key?: string }[] = [];
    const digest = { tenantId: OWN, seq: 7 };
    const client = {
      send: async (command: { constructor: { name: string }; input: { Prefix?: string; Key?: string } }) => {
        sent.push({
          command: command.constructor.name,
          prefix: command.input.Prefix,
          key: command.input.Key,
        });
        if (command.input.Prefix !== undefined) return { Contents: [{ Key: digestKey(OWN, 7) }] };
        return { Body: { transformToString: async () => JSON.stringify(digest) } };
      },
    } as unknown as S3Client;
    const digests = await new S3AuditArchive(client, 'bucket').listDigests(OWN);
    expect(digests).toEqual([digest]);
    expect(sent).toEqual([
      { command: 'ListObjectsV2Command', prefix: `${AUDIT_ARCHIVE_PREFIXES.digests}${OWN}/`, key: undefined },
      { command: 'GetObjectCommand', prefix: undefined, key: digestKey(OWN, 7) },
    ]);
  });
});

describe.each(['dev', 'prod'] as const)('IAM fence in %s', (stage) => {
  const { stack, template } = synthStage(stage, { notificationsFromEmail: NOTIFICATIONS_FROM });
  const resources = template.toJSON().Resources as Resources;
  const arns = arnsOf(stack, resources);
  // Each KMS key's own policy, by ARN: KMS allows nothing its key policy does not delegate to IAM.
  const keyPolicies = new Map(
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::KMS::Key')
      .map(([id, r]) => [
        String(resolve({ 'Fn::GetAtt': [id, 'Arn'] }, resources)),
        resolve(r.Properties?.KeyPolicy, resources) as PolicyDocument,
      ]),
  );
  const decide = (principal: string, policies: PolicyDocument[], request: SimRequest) => {
    const resourcePolicy = keyPolicies.get(request.resource);
    return simulate(principal, policies, { ...request, ...(resourcePolicy ? { resourcePolicy } : {}) });
  };

  describe.each(FUNCTION_NAMES)('%s', (name) => {
    const roles = rolesOf(stack, resources, name);
    const calls = AWS_CALLS.filter((c) => c.functions.includes(name));
    const roleFor = (call: AwsCall): RolePolicies => {
      if (call.via === 'functionRole') return roles.fnRole;
      if (!roles.tenantRole) throw new Error(`${name} has no tenant data role for ${call.command}`);
      return roles.tenantRole;
    };
    const bothRoles = [roles.fnRole, roles.tenantRole].filter((r): r is RolePolicies => r !== undefined);
    const cases = calls.flatMap((call) =>
      call.targets.flatMap((target) => call.actions.map((action) => ({ call, target, action }))),
    );

    it('is allowed every call its code makes, on its own tenant', async () => {
      const refused: string[] = [];
      for (const { call, target, action } of cases) {
        const role = roleFor(call);
        const { resource, context } = requestFor(target, OWN, stage, arns, name);
        const decision = await decide(role.arn, role.policies, {
          action,
          resource,
          context: { ...context, 'aws:PrincipalTag/TenantId': OWN },
        });
        if (decision !== 'Allowed') refused.push(`${call.command} ${action} on ${target}: ${decision}`);
      }
      expect(cases.length).toBeGreaterThan(0);
      expect(refused).toEqual([]);
    });

    it("is allowed each batch call's keys all at once, as a batch is authorized once for every key", async () => {
      // ForAllValues: one statement must match every key of the request, not one statement per key.
      const refused: string[] = [];
      for (const call of calls.filter((c) => c.actions.some((a) => /^dynamodb:Batch/.test(a)))) {
        const requests = call.targets.map((t) => requestFor(t, OWN, stage, arns, name));
        const keys = requests.flatMap((r) => r.context['dynamodb:LeadingKeys'] ?? []);
        const role = roleFor(call);
        for (const action of call.actions) {
          const context = { 'dynamodb:LeadingKeys': keys, 'aws:PrincipalTag/TenantId': OWN };
          const decision = await decide(role.arn, role.policies, { action, resource: arns.table, context });
          if (decision !== 'Allowed')
            refused.push(`${call.command} ${action} on ${call.targets.join(' + ')}: ${decision}`);
        }
      }
      expect(refused).toEqual([]);
    });

    if (PLATFORM_FUNCTIONS.has(name)) platformFunctionTests(name);
    else
      it("is denied the same calls on another tenant's keys, prefix and path", async () => {
        const allowed: string[] = [];
        const tenantCases = cases.filter((c) => TENANT_TARGETS.has(c.target));
        for (const { call, target, action } of tenantCases) {
          for (const other of OTHERS) {
            const { resource, context } = requestFor(target, other, stage, arns, name);
            for (const role of bothRoles) {
              const decision = await decide(role.arn, role.policies, {
                action,
                resource,
                context: { ...context, 'aws:PrincipalTag/TenantId': OWN },
              });
              if (decision === 'Allowed') allowed.push(`${call.command} ${action} on ${other}'s ${target}`);
            }
          }
        }
        expect(tenantCases.length).toBeGreaterThan(0);
        expect(allowed).toEqual([]);
      });

    if (!PLATFORM_FUNCTIONS.has(name))
      it("is denied each item action on its own tenant's partitions that none of its calls reach with it", async () => {
        const reached = new Map<string, Set<Target>>();
        for (const { call, target, action } of cases) {
          if (call.via !== 'tenantRole' || !action.startsWith('dynamodb:')) continue;
          reached.set(action, (reached.get(action) ?? new Set()).add(target));
        }
        const allowed: string[] = [];
        const role = roles.tenantRole as RolePolicies; // a tenant-facing function has one (rolesOf)
        const ask = async (action: string, resource: string, context: Record<string, string | string[]>) =>
          decide(role.arn, role.policies, {
            action,
            resource,
            context: { ...context, 'aws:PrincipalTag/TenantId': OWN },
          });
        for (const [action, targets] of reached) {
          for (const target of TENANT_ITEM_TARGETS.filter((t) => !targets.has(t))) {
            const { resource, context } = requestFor(target, OWN, stage, arns, name);
            if ((await ask(action, resource, context)) === 'Allowed') allowed.push(`${action} on ${target}`);
          }
          // A sub-partition no target names, such as a future feature's.
          const other = { 'dynamodb:LeadingKeys': [`TENANT#${OWN}#OTHER`] };
          if ((await ask(action, arns.table, other)) === 'Allowed')
            allowed.push(`${action} on TENANT#<own>#OTHER`);
        }
        expect(reached.size).toBeGreaterThan(0);
        expect(allowed).toEqual([]);
      });

    it("keeps each role's policies within IAM's 10,240 characters, with room for real resource names", () => {
      // Deployed ARNs carry the stack name and a random suffix, about 30 characters more each: 40 allowed.
      for (const role of bothRoles) {
        const policies = JSON.stringify(role.policies);
        const arns = policies.match(/arn:aws:/g)?.length ?? 0;
        expect(policies.length + 40 * arns, role.arn).toBeLessThanOrEqual(10_240);
      }
    });

    it("reaches no tenant's data with its own role, not even its own tenant's", async () => {
      const allowed: string[] = [];
      for (const { call, target, action } of cases.filter((c) => TENANT_TARGETS.has(c.target))) {
        const { resource, context } = requestFor(target, OWN, stage, arns, name);
        const decision = await decide(roles.fnRole.arn, roles.fnRole.policies, { action, resource, context });
        if (decision === 'Allowed') allowed.push(`${call.command} ${action} on ${target}`);
      }
      expect(allowed).toEqual([]);
    });

    it('is denied dangerous actions, with either role', async () => {
      const otherRoles = arns.tenantRoles.filter((r) => r.name !== name).map((r) => r.arn);
      const ownDigest = `${arns.auditBucket}/${digestKey(OWN, 7)}`;
      const dangerous: { action: string; resource: string; context?: Record<string, unknown> }[] = [
        ...[
          'AdminAddUserToGroup',
          'AdminRemoveUserFromGroup',
          'AdminSetUserPassword',
          'AdminUpdateUserAttributes',
          'AdminInitiateAuth',
          'CreateGroup',
        ].map((a) => ({ action: `cognito-idp:${a}`, resource: arns.userPool })),
        { action: 'dynamodb:Scan', resource: arns.table },
        { action: 'dynamodb:Scan', resource: arns.index },
        { action: 'dynamodb:DeleteTable', resource: arns.table },
        { action: 'dynamodb:UpdateTable', resource: arns.table },
        { action: 'dynamodb:ExportTableToPointInTime', resource: arns.table },
        { action: 'iam:CreateRole', resource: `arn:aws:iam::${ACCOUNT}:role/x` },
        { action: 'iam:PutRolePolicy', resource: arns.workflowRole },
        { action: 'iam:AttachRolePolicy', resource: arns.workflowRole },
        { action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/Admin` },
        // Schedules only in this stage's tenant groups; no other stage's or account-wide group.
        {
          action: 'scheduler:CreateSchedule',
          resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/x`,
        },
        {
          action: 'scheduler:DeleteScheduleGroup',
          resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/other-${OWN}`,
        },
        // A tenant's group is tagged with its tenant at creation and no other way.
        ...[{}, { [`aws:RequestTag/${TENANT_TAG}`]: OWN, 'aws:TagKeys': [TENANT_TAG, 'Owner'] }].flatMap(
          (context) =>
            ['scheduler:TagResource', 'scheduler:CreateScheduleGroup'].map((action) => ({
              action,
              resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${stagePrefix(stage)}-${OWN}`,
              context,
            })),
        ),
        // Keys are used only through their service (kms:ViaService); direct use, or keys not bound, never.
        // The stream consumer's one exception (reading the encrypted stream) is checked below.
        ...(name === 'auditStream' ? [] : [{ action: 'kms:Decrypt', resource: arns.tableKey }]),
        { action: 'kms:Decrypt', resource: arns.auditKey },
        { action: 'kms:Decrypt', resource: arns.artifactsKey },
        { action: 'kms:Decrypt', resource: arns.signingKey },
        // Only the stream consumer signs digests; no function manages the signing key.
        ...(name === 'auditStream' ? [] : [{ action: 'kms:Sign', resource: arns.signingKey }]),
        { action: 'kms:ScheduleKeyDeletion', resource: arns.signingKey },
        { action: 'kms:DisableKey', resource: arns.signingKey },
        { action: 'kms:PutKeyPolicy', resource: arns.signingKey },
        { action: 'kms:Sign', resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/another-key` },
        // The Object Lock archive: nothing deletes, shortens retention, lifts a hold or rewrites.
        ...[
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:PutObjectRetention',
          's3:BypassGovernanceRetention',
          's3:PutObjectLegalHold',
        ].map((action) => ({ action, resource: ownDigest })),
        { action: 's3:PutBucketObjectLockConfiguration', resource: arns.auditBucket },
        { action: 's3:PutLifecycleConfiguration', resource: arns.auditBucket },
        { action: 's3:PutObject', resource: `${arns.auditBucket}/elsewhere/${OWN}.json` },
        {
          action: 's3:GetObject',
          resource: `${arns.auditBucket}/${recordsKey(OWN, '2026-11-29T10', 'a1', 'a9')}`,
        },
        { action: 'sts:AssumeRole', resource: arns.workflowRole },
        { action: 'sts:AssumeRole', resource: `arn:aws:iam::${ACCOUNT}:role/Admin` },
        ...otherRoles.map((resource) => ({ action: 'sts:AssumeRole', resource })),
        { action: 's3:GetObject', resource: `${arns.auditBucket}/tenants/${OWN}/audit.json` },
        // Only offboarding (the lifecycle function) deletes a tenant's objects.
        ...(name === 'lifecycle'
          ? []
          : [{ action: 's3:DeleteObject', resource: `${arns.artifacts}/tenants/${OWN}/x.json` }]),
        { action: 's3:PutBucketPolicy', resource: arns.artifacts },
        { action: 's3:GetObject', resource: `${arns.artifacts}/exports/all.json` },
        { action: 'secretsmanager:ListSecrets', resource: '*' },
        {
          action: 'secretsmanager:GetSecretValue',
          resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:meridian/${stage}/platform-AbC123`,
        },
        {
          action: 'states:DeleteStateMachine',
          resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:x`,
        },
        // Workflow machines only on the session tenant's credentials, and only the session tenant's:
        // another tenant's are out of reach with either role, for every function.
        ...OTHERS.flatMap((other) => {
          const machine = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${stateMachineName(stagePrefix(stage), other, 'wf1')}`;
          const tags = { [`aws:ResourceTag/${TENANT_TAG}`]: other, [`aws:RequestTag/${TENANT_TAG}`]: other };
          return [
            ...[
              'states:CreateStateMachine',
              'states:UpdateStateMachine',
              'states:StartExecution',
              'states:DeleteStateMachine',
              'states:DeleteStateMachineVersion',
            ].map((action) => ({ action, resource: machine, context: tags })),
            {
              action: 'states:StopExecution',
              resource: `${machine.replace(':stateMachine:', ':execution:')}:key1`,
            },
            {
              action: 'states:RedriveExecution',
              resource: `${machine.replace(':stateMachine:', ':execution:')}:key1`,
            },
          ];
        }),
        // A machine named for the session tenant but tagged for another is neither created nor run.
        ...(() => {
          const machine = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${stateMachineName(stagePrefix(stage), OWN, 'wf1')}`;
          const other = OTHERS[0] ?? 'tother';
          return [
            {
              action: 'states:CreateStateMachine',
              resource: machine,
              context: { [`aws:RequestTag/${TENANT_TAG}`]: other, 'aws:TagKeys': [TENANT_TAG] },
            },
            ...['states:StartExecution', 'states:UpdateStateMachine'].map((action) => ({
              action,
              resource: machine,
              context: { [`aws:ResourceTag/${TENANT_TAG}`]: other },
            })),
          ];
        })(),
        { action: 'lambda:UpdateFunctionCode', resource: arns.stepRunner },
        // Email only from the configured sender (no ses:FromAddress here, so any other sender).
        { action: 'ses:SendEmail', resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.com` },
        { action: 'sqs:PurgeQueue', resource: arns.notificationDeadLetterQueue },
        { action: 'sqs:DeleteQueue', resource: arns.notificationQueue },
      ];
      const allowed: string[] = [];
      for (const request of dangerous) {
        for (const role of bothRoles) {
          const decision = await decide(role.arn, role.policies, {
            ...request,
            context: { 'aws:PrincipalTag/TenantId': OWN, ...request.context },
          });
          if (decision === 'Allowed') allowed.push(`${request.action} on ${request.resource}`);
        }
      }
      expect(allowed).toEqual([]);
    });

    it('holds no permission that no call of its code needs', () => {
      // Actions every function needs to run at all, not made by its code through the SDK.
      const runtime = new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
        // The Lambda service sends failed asynchronous events to the dead-letter queue as the function.
        'sqs:SendMessage',
        // The stream consumer's event source mapping reads the table's stream and sends the batches
        // that keep failing to its on-failure queue, with the function's role.
        ...(name === 'auditStream'
          ? [
              'dynamodb:DescribeStream',
              'dynamodb:GetRecords',
              'dynamodb:GetShardIterator',
              'dynamodb:ListStreams',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
            ]
          : []),
        // The delivery function's SQS event source mapping receives and deletes with its role.
        ...(name === 'notificationDelivery'
          ? [
              'sqs:ReceiveMessage',
              'sqs:DeleteMessage',
              'sqs:ChangeMessageVisibility',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
            ]
          : []),
      ]);
      const needed = new Set(calls.flatMap((c) => c.actions));
      const unused = (policies: PolicyDocument[]) =>
        policies
          .flatMap((p) => p.Statement)
          .filter((s) => s.Effect === 'Allow')
          .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[])
          // Key use follows from the table, bucket and queue calls; kms:ViaService limits it (tested above).
          .filter((a) => !a.startsWith('kms:') && !runtime.has(a) && !needed.has(a));
      for (const role of bothRoles) expect(unused(role.policies)).toEqual([]);
    });
  });

  /** The platform-level consumer: every tenant's audit partition, nothing else of any tenant. */
  function platformFunctionTests(name: FunctionName): void {
    const roles = rolesOf(stack, resources, name);
    const role = roles.fnRole;
    const allow = async (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
      decide(role.arn, role.policies, { action, resource, context });

    it('has no tenant data role and no tenant-credential call', () => {
      expect(roles.tenantRole).toBeUndefined();
      expect(AWS_CALLS.filter((c) => c.functions.includes(name) && c.via === 'tenantRole')).toEqual([]);
    });

    it("reaches every tenant's audit partition and archive prefixes, as its batches mix tenants", async () => {
      const refused: string[] = [];
      for (const tenant of [OWN, ...OTHERS]) {
        for (const call of AWS_CALLS.filter((c) => c.functions.includes(name))) {
          for (const target of call.targets) {
            const { resource, context } = requestFor(target, tenant, stage, arns, name);
            for (const action of call.actions) {
              const decision = await allow(action, resource, context);
              if (decision !== 'Allowed') refused.push(`${action} on ${tenant}'s ${target}`);
            }
          }
        }
      }
      expect(refused).toEqual([]);
    });

    it('is denied every other partition of any tenant, and the index', async () => {
      const allowed: string[] = [];
      const partitions = [
        `TENANT#${OWN}`,
        `TENANT#${OWN}#EXEC#x1`,
        `TENANT#${OWN}#RATE#7`,
        `TENANT#${OWN}#RUNNING`,
        `TENANT#${OWN}#AUDIT#x`,
        'HEALTH',
        'TENANTS',
      ];
      const actions = [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
      ];
      for (const action of actions) {
        for (const key of partitions) {
          const decision = await allow(action, arns.table, { 'dynamodb:LeadingKeys': [key] });
          if (decision === 'Allowed') allowed.push(`${action} on ${key}`);
        }
        // A request naming no partition (ForAllValues holds for an empty set).
        if ((await allow(action, arns.table)) === 'Allowed') allowed.push(`${action} naming no partition`);
        const index = await allow(action, arns.index, { 'dynamodb:LeadingKeys': [`TENANT#${OWN}#AUDIT`] });
        if (index === 'Allowed') allowed.push(`${action} on the index`);
      }
      // Deleting a record, even in an audit partition, is not the consumer's to do.
      const del = await allow('dynamodb:DeleteItem', arns.table, {
        'dynamodb:LeadingKeys': [`TENANT#${OWN}#AUDIT`],
      });
      if (del === 'Allowed') allowed.push('DeleteItem on an audit record');
      expect(allowed).toEqual([]);
    });

    it("uses the table key directly only to decrypt its stream, and reads only this table's stream", async () => {
      expect(await allow('kms:Decrypt', arns.tableKey)).toBe('Allowed');
      for (const action of ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:CreateGrant']) {
        expect(await allow(action, arns.tableKey)).not.toBe('Allowed');
      }
      expect(await allow('dynamodb:GetRecords', arns.stream)).toBe('Allowed');
      const otherStream = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Other/stream/${STREAM_LABEL}`;
      expect(await allow('dynamodb:GetRecords', otherStream)).not.toBe('Allowed');
      // Archive objects are encrypted through S3 only, and never decrypted by the consumer.
      expect(await allow('kms:GenerateDataKey', arns.auditKey)).not.toBe('Allowed');
      const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
      expect(await allow('kms:GenerateDataKey', arns.auditKey, viaS3)).toBe('Allowed');
      expect(await allow('kms:Decrypt', arns.auditKey, viaS3)).not.toBe('Allowed');
    });
  }

  it('tells each function its own tenant data role, so its runtime uses tenant credentials', () => {
    for (const name of TENANT_FUNCTIONS) {
      const fn = functionOf(stack, name);
      const role = fn.tenantDataRole;
      if (!role) throw new Error(`${name} has no tenant data role`);
      const env = (resources[logicalId(stack, fn.function)]?.Properties?.Environment ?? {}) as {
        Variables?: Record<string, unknown>;
      };
      expect(env.Variables?.TENANT_DATA_ROLE_ARN).toEqual({ 'Fn::GetAtt': [logicalId(stack, role), 'Arn'] });
    }
  });

  it('lets each tenant data role be assumed only by its own function, with a TenantId tag', () => {
    for (const name of TENANT_FUNCTIONS) {
      const fn = functionOf(stack, name);
      const role = fn.tenantDataRole;
      if (!role) throw new Error(`${name} has no tenant data role`);
      const trust = resources[logicalId(stack, role)]?.Properties?.AssumeRolePolicyDocument;
      expect(trust).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Principal: { AWS: { 'Fn::GetAtt': [logicalId(stack, fn.role), 'Arn'] } },
            Condition: { Null: { 'aws:RequestTag/TenantId': 'false' } },
          },
        ],
      });
    }
  });

  it('allows "Resource": "*" only for the actions acknowledged on each role', () => {
    const unacknowledged: string[] = [];
    let checked = 0;
    // The L2 roles (acknowledgements live on them), not their CloudFormation resources.
    for (const construct of stack.node.findAll().filter((c) => !(c instanceof CfnElement))) {
      const id = logicalIdOrUndefined(stack, construct);
      if (!id || resources[id]?.Type !== 'AWS::IAM::Role') continue;
      checked++;
      const acknowledged = new Set(acknowledgedStarActions(construct));
      for (const statement of rolePolicies(resources, id).flatMap((p) => p.Statement)) {
        const targets = [statement.Resource].flat();
        if (statement.Effect !== 'Allow' || !targets.includes('*')) continue;
        for (const action of [statement.Action].flat() as string[]) {
          if (!acknowledged.has(action)) unacknowledged.push(`${construct.node.path}: ${action}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(5);
    expect(unacknowledged).toEqual([]);
  });

  it('names every resource by ARN (or "*"): the simulator would match anything else against every resource', () => {
    const roles = Object.keys(resources).filter((id) => resources[id]?.Type === 'AWS::IAM::Role');
    const named = roles.flatMap((id) =>
      rolePolicies(resources, id).flatMap((p) => p.Statement.flatMap((s) => [s.Resource ?? []].flat())),
    );
    expect(named.length).toBeGreaterThan(50);
    expect(named.filter((r) => r !== '*' && !/^arn:aws:[a-z0-9-]+:/.test(String(r)))).toEqual([]);
  });
});

function logicalIdOrUndefined(stack: MeridianStack, construct: Parameters<typeof logicalId>[1]): string {
  try {
    return logicalId(stack, construct);
  } catch {
    return '';
  }
}
