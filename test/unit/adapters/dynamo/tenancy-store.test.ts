import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { Table } from '#adapters/dynamo/table.ts';
import { dynamoTenancyStore } from '#adapters/dynamo/tenancy-store.ts';
import type { AuditContext } from '#core/audit/audit.ts';
import type { Team, Tenant, User } from '#core/tenancy/model.ts';
import type { TenancyStore } from '#core/tenancy/ports.ts';

const T = 'tabcdefghijklmnop';
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(db);
const store = dynamoTenancyStore(new Table('t', { platform: db, forTenant: async () => db }));
afterEach(() => mock.reset());

const audit: AuditContext = {
  tenantId: T,
  actor: { id: 'u1', type: 'user' },
  meta: { requestId: 'r1', sourceIp: '10.0.0.1', userAgent: 'ua', now: '2026-11-29T10:00:00.000Z' },
  draft: { action: 'team.update', resourceType: 'team', resourceId: 'g1' },
};
const USER: User = {
  userId: 'u2',
  tenantId: T,
  email: 'a@example.com',
  roles: ['viewer'],
  teams: [],
  status: 'active',
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
};

/** Every method of the composite, so a method a focused store drops fails here (and in tsc). */
const METHODS = {
  createTenant: true,
  getTenant: true,
  listTenants: true,
  updateTenant: true,
  createUser: true,
  getUser: true,
  listUsers: true,
  updateUser: true,
  deleteUser: true,
  eraseUser: true,
  findUserBySub: true,
  createTeam: true,
  getTeam: true,
  listTeams: true,
  updateTeam: true,
  deleteTeam: true,
  createRole: true,
  getRole: true,
  getRoles: true,
  listRoles: true,
  updateRole: true,
  deleteRole: true,
  createApiKey: true,
  getApiKey: true,
  listApiKeys: true,
  updateApiKey: true,
  touchApiKey: true,
  putSecretMeta: true,
  getSecretMeta: true,
  listSecrets: true,
  deleteSecretMeta: true,
  listAudit: true,
  recordAuthEvent: true,
  readAuditRecords: true,
} satisfies Record<keyof TenancyStore, true>;

describe('dynamoTenancyStore: the focused stores as one object', () => {
  it('has every method of every focused store, and nothing else', () => {
    // Assess
    expect(Object.keys(store).sort()).toEqual(Object.keys(METHODS).sort());
    for (const name of Object.keys(METHODS))
      expect(typeof store[name as keyof TenancyStore]).toBe('function');
  });

  it('calls each method on its own store (bound: it reaches the table)', async () => {
    // Prepare
    mock.on(BatchGetCommand).resolves({ Responses: { t: [] } });
    mock.on(UpdateCommand).resolves({});
    const { getRoles, touchApiKey } = store;
    // Act
    await getRoles(T, ['ops']);
    await touchApiKey(T, 'k1', '2026-11-29T10:00:00.000Z');
    // Assess
    expect(mock.commandCalls(BatchGetCommand)).toHaveLength(1);
    expect(mock.commandCalls(UpdateCommand)[0]?.args[0].input.Key).toEqual({
      pk: `TENANT#${T}`,
      sk: 'APIKEY#k1',
    });
  });

  it('writes a tenant with its first admin in one transaction', async () => {
    // Prepare
    mock.on(TransactWriteCommand).resolves({});
    const tenant = { tenantId: T, name: 'Acme' } as Tenant;
    // Act
    await store.createTenant(tenant, USER, { ...audit, draft: { ...audit.draft, action: 'tenant.create' } });
    // Assess
    const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(items.map((i) => i.Put?.Item?.type)).toEqual(['tenant', 'user', 'email', 'audit']);
  });

  it('moves a team and its members in one transaction', async () => {
    // Prepare
    mock.on(TransactWriteCommand).resolves({});
    const team = { teamId: 'g1', name: 'Ops', updatedAt: '2026-11-01T00:00:00.000Z' } as Team;
    const member = { next: { ...USER, teams: ['g1'] }, previous: USER };
    // Act
    await store.updateTeam(T, { ...team, name: 'SRE' }, team, [member], audit);
    // Assess
    const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(items.map((i) => i.Put?.Item?.type ?? 'delete')).toEqual([
      'team',
      'user',
      'teamName',
      'delete',
      'audit',
    ]);
  });
});
