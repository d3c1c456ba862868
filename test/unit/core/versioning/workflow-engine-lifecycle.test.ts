import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '#core/access/permissions.ts';
import type { RequestMeta, TenantPrincipal } from '#core/principal.ts';
import type { WorkflowEngine } from '#core/versioning/engine.ts';
import type { Head, Version } from '#core/versioning/model.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import { deleteWorkflow, requestPromotion } from '#core/versioning/workflows.ts';
import type { WorkflowDefinition } from '#core/workflows/model.ts';

const TENANT = 'tabcdefghijklmnop';
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:meridian-dev-t-w';
const META: RequestMeta = {
  requestId: 'r',
  sourceIp: '10.0.0.1',
  userAgent: 'unit',
  now: '2026-11-29T00:00:00.000Z',
};
const ADMIN: TenantPrincipal = {
  kind: 'tenant',
  tenantId: TENANT,
  principalId: 'admin-sub',
  principalType: 'user',
  roles: ['admin'],
  permissions: new Set(PERMISSIONS),
};

function fixture(head: Partial<Head<WorkflowDefinition>>) {
  const calls: string[] = [];
  const engine: WorkflowEngine = {
    publish: async () => ({ stateMachineArn: MACHINE, versionArn: `${MACHINE}:1` }),
    promote: async (input) => {
      calls.push(`promote ${input.environment} ${input.versionArn} asl=${input.asl ?? 'none'}`);
    },
    remove: async (input) => {
      calls.push(`remove ${input.stateMachineArn}`);
    },
  };
  const stored = {
    id: 'wdef',
    kind: 'workflow',
    name: 'w',
    latestVersion: 1,
    definition: {},
    createdAt: META.now,
    updatedAt: META.now,
    createdBy: 'admin-sub',
    updatedBy: 'admin-sub',
    environments: {},
    ...head,
  } as Head<WorkflowDefinition>;
  const version = {
    id: 'wdef',
    kind: 'workflow',
    version: 1,
    definition: {},
    asl: '{"asl":1}',
    engineVersionArn: `${MACHINE}:1`,
    pins: { agents: {}, tools: {} },
    createdAt: META.now,
    createdBy: 'admin-sub',
  } as unknown as Version<WorkflowDefinition>;
  const definitions = {
    getHead: async () => {
      calls.push('getHead');
      return stored;
    },
    getVersion: async (_t: string, _k: string, _id: string, n: number) => {
      calls.push(`getVersion ${n}`);
      return n === version.version ? version : undefined;
    },
    saveHead: async () => {
      calls.push('saveHead');
    },
    deleteHead: async () => {
      calls.push('deleteHead');
    },
  } as unknown as DefinitionStore;
  const deps = {
    definitions,
    approvals: {} as never,
    engine,
    notify: async () => undefined,
    arns: {
      stepRunner: 'arn:aws:lambda:us-east-1:1:function:s',
      approvalHandler: 'arn:aws:lambda:us-east-1:1:function:a',
    },
  };
  return { deps, calls };
}

describe('workflow lifecycle on the engine', () => {
  it('deleting a workflow deletes its state machine, after the record', async () => {
    const { deps, calls } = fixture({ stateMachineArn: MACHINE });
    await deleteWorkflow(deps, { principal: ADMIN, meta: META }, 'wdef');
    expect(calls.filter((call) => !call.startsWith('get'))).toEqual(['deleteHead', `remove ${MACHINE}`]);
  });

  it('a workflow without a state machine deletes only the record', async () => {
    const { deps, calls } = fixture({});
    await deleteWorkflow(deps, { principal: ADMIN, meta: META }, 'wdef');
    expect(calls.filter((call) => !call.startsWith('get'))).toEqual(['deleteHead']);
  });

  it('a promotion hands the version ASL to the engine, so a retired version can be published again', async () => {
    const { deps, calls } = fixture({ stateMachineArn: MACHINE });
    await requestPromotion(deps, { principal: ADMIN, meta: META }, 'wdef', {
      version: 1,
      environment: 'dev',
    });
    expect(calls).toContain(`promote dev ${MACHINE}:1 asl={"asl":1}`);
  });

  it('a promotion reads the head and the version once each', async () => {
    const { deps, calls } = fixture({ stateMachineArn: MACHINE });
    await requestPromotion(deps, { principal: ADMIN, meta: META }, 'wdef', {
      version: 1,
      environment: 'dev',
    });
    expect(calls).toEqual(['getHead', 'getVersion 1', `promote dev ${MACHINE}:1 asl={"asl":1}`, 'saveHead']);
  });

  it('a promotion of an older version reads the latest version too, for its pins', async () => {
    const { deps, calls } = fixture({ stateMachineArn: MACHINE, latestVersion: 2 });
    await requestPromotion(deps, { principal: ADMIN, meta: META }, 'wdef', {
      version: 1,
      environment: 'dev',
    });
    expect(calls).toEqual([
      'getHead',
      'getVersion 1',
      `promote dev ${MACHINE}:1 asl={"asl":1}`,
      'getVersion 2',
      'saveHead',
    ]);
  });

  it('a promotion of a version that does not exist names the version', async () => {
    const { deps, calls } = fixture({ stateMachineArn: MACHINE });
    await expect(
      requestPromotion(deps, { principal: ADMIN, meta: META }, 'wdef', { version: 9, environment: 'dev' }),
    ).rejects.toMatchObject({ problems: [{ path: 'version', message: 'no such version' }] });
    expect(calls).not.toContain('saveHead');
  });
});
