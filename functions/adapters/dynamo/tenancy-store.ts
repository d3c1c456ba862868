import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuthEvent } from '#core/access/authenticate.ts';
import { type AuditContext, type AuditRecord, buildRecord } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type {
  ApiKeyRecord,
  Page,
  PageRequest,
  Role,
  SecretMeta,
  Team,
  Tenant,
  User,
} from '#core/tenancy/model.ts';
import type { AuditFilter, TenancyStore, UserChange } from '#core/tenancy/ports.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import { keys } from './keys.ts';
import { strip, type Table } from './table.ts';

const NEW = 'attribute_not_exists(pk)';
const EXISTS = 'attribute_exists(pk)';

/** Versioned put: the item must still carry the `updatedAt` we read (optimistic concurrency). */
const unchanged = (table: Table, item: Record<string, unknown>, previousUpdatedAt: string | undefined) =>
  previousUpdatedAt === undefined
    ? table.put(item, EXISTS)
    : table.put(item, '#u = :u', { '#u': 'updatedAt' }, { ':u': previousUpdatedAt });

const changed = () =>
  new ConflictError('The resource was changed by someone else meanwhile; read it again and retry.');

/** DynamoDB implementation of {@link TenancyStore} over the single table. */
export class DynamoTenancyStore implements TenancyStore {
  constructor(private readonly table: Table) {}

  async createTenant(tenant: Tenant, admin: User, audit: AuditContext): Promise<void> {
    const t = tenant.tenantId;
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.tenant(t), ...keys.tenantsIndex(tenant.name, t), type: 'tenant', ...tenant },
          NEW,
        ),
        this.userItem(admin, NEW),
        this.table.put({ ...keys.userEmail(t, emailOf(admin)), type: 'email', userId: admin.userId }, NEW),
      ],
      () => new ConflictError('A tenant with this id already exists.'),
    );
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.tenant(tenantId));
    return item ? strip<Tenant>(item) : undefined;
  }

  listTenants(page: PageRequest): Promise<Page<Tenant>> {
    return this.table.page(
      'platform',
      'tenants',
      {
        IndexName: TABLE_SCHEMA.gsi1.indexName,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': 'TENANTS' },
      },
      page,
      (item) => strip<Tenant>(item),
    );
  }

  async updateTenant(next: Tenant, previous: Tenant, audit: AuditContext): Promise<void> {
    const t = next.tenantId;
    await this.table.commit(
      audit,
      [
        unchanged(
          this.table,
          { ...keys.tenant(t), ...keys.tenantsIndex(next.name, t), type: 'tenant', ...next },
          previous.updatedAt,
        ),
      ],
      changed,
    );
  }

  private userItem(user: User, condition: string) {
    return this.table.put(
      {
        ...keys.user(user.tenantId, user.userId),
        ...keys.userBySub(user.userId, user.tenantId),
        type: 'user',
        ...user,
      },
      condition,
    );
  }

  async createUser(user: User, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.userEmail(user.tenantId, emailOf(user)), type: 'email', userId: user.userId },
          NEW,
        ),
        this.userItem(user, NEW),
      ],
      (i) =>
        new ConflictError(i === 0 ? 'A user with this email already exists.' : 'This user already exists.', [
          { path: 'email', message: 'already in use' },
        ]),
    );
  }

  async getUser(tenantId: string, userId: string): Promise<User | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.user(tenantId, userId));
    return item ? strip<User>(item) : undefined;
  }

  listUsers(tenantId: string, page: PageRequest): Promise<Page<User>> {
    return this.table.page(tenantId, 'users', this.prefixQuery(tenantId, keys.prefix.user), page, (i) =>
      strip<User>(i),
    );
  }

  async updateUser(next: User, previous: User, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        unchanged(
          this.table,
          {
            ...keys.user(next.tenantId, next.userId),
            ...keys.userBySub(next.userId, next.tenantId),
            type: 'user',
            ...next,
          },
          previous.updatedAt,
        ),
      ],
      changed,
    );
  }

  async deleteUser(user: User, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.delete(keys.user(user.tenantId, user.userId), EXISTS),
        // An erased user has no email left, and no email item.
        ...(user.email ? [this.table.delete(keys.userEmail(user.tenantId, user.email))] : []),
      ],
      () => new NotFoundError('No such user.'),
    );
  }

  async eraseUser(erased: User, previous: User, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        unchanged(
          this.table,
          {
            ...keys.user(erased.tenantId, erased.userId),
            ...keys.userBySub(erased.userId, erased.tenantId),
            type: 'user',
            ...erased,
          },
          previous.updatedAt,
        ),
        ...(previous.email ? [this.table.delete(keys.userEmail(previous.tenantId, previous.email))] : []),
      ],
      changed,
    );
  }

  async findUserBySub(sub: string): Promise<User | undefined> {
    const [item] = await this.table.queryIndex(`SUB#${sub}`);
    return item ? strip<User>(item) : undefined;
  }

  private memberWrites(members: readonly UserChange[]) {
    return members.map(({ next, previous }) =>
      unchanged(
        this.table,
        {
          ...keys.user(next.tenantId, next.userId),
          ...keys.userBySub(next.userId, next.tenantId),
          type: 'user',
          ...next,
        },
        previous.updatedAt,
      ),
    );
  }

  async createTeam(
    tenantId: string,
    team: Team,
    members: readonly UserChange[],
    audit: AuditContext,
  ): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put({ ...keys.teamName(tenantId, team.name), type: 'teamName', teamId: team.teamId }, NEW),
        this.table.put({ ...keys.team(tenantId, team.teamId), type: 'team', ...team }, NEW),
        ...this.memberWrites(members),
      ],
      (i) =>
        i < 2
          ? new ConflictError('A team with this name already exists.', [
              { path: 'name', message: 'already in use' },
            ])
          : changed(),
    );
  }

  async getTeam(tenantId: string, teamId: string): Promise<Team | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.team(tenantId, teamId));
    return item ? strip<Team>(item) : undefined;
  }

  listTeams(tenantId: string, page: PageRequest): Promise<Page<Team>> {
    return this.table.page(tenantId, 'teams', this.prefixQuery(tenantId, keys.prefix.team), page, (i) =>
      strip<Team>(i),
    );
  }

  async updateTeam(
    tenantId: string,
    next: Team,
    previous: Team,
    members: readonly UserChange[],
    audit: AuditContext,
  ): Promise<void> {
    const renamed = next.name.toLowerCase() !== previous.name.toLowerCase();
    await this.table.commit(
      audit,
      [
        unchanged(
          this.table,
          { ...keys.team(tenantId, next.teamId), type: 'team', ...next },
          previous.updatedAt,
        ),
        ...this.memberWrites(members),
        ...(renamed
          ? [
              this.table.put(
                { ...keys.teamName(tenantId, next.name), type: 'teamName', teamId: next.teamId },
                NEW,
              ),
              this.table.delete(keys.teamName(tenantId, previous.name)),
            ]
          : []),
      ],
      (i) =>
        renamed && i === members.length + 1
          ? new ConflictError('A team with this name already exists.', [
              { path: 'name', message: 'already in use' },
            ])
          : changed(),
    );
  }

  async deleteTeam(
    tenantId: string,
    team: Team,
    members: readonly UserChange[],
    audit: AuditContext,
  ): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.delete(keys.team(tenantId, team.teamId), EXISTS),
        this.table.delete(keys.teamName(tenantId, team.name)),
        ...this.memberWrites(members),
      ],
      (i) => (i === 0 ? new NotFoundError('No such team.') : changed()),
    );
  }

  async createRole(tenantId: string, role: Role, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.put({ ...keys.role(tenantId, role.name), type: 'role', ...role }, NEW)],
      () =>
        new ConflictError('A role with this name already exists.', [
          { path: 'name', message: 'already in use' },
        ]),
    );
  }

  async getRole(tenantId: string, name: string): Promise<Role | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.role(tenantId, name));
    return item ? strip<Role>(item) : undefined;
  }

  async getRoles(tenantId: string, names: readonly string[]): Promise<readonly Role[]> {
    if (names.length === 0) return [];
    const db = await this.table.clients.forTenant(tenantId);
    const out = await db.send(
      new BatchGetCommand({
        RequestItems: {
          [this.table.name]: { Keys: names.map((n) => keys.role(tenantId, n)), ConsistentRead: true },
        },
      }),
    );
    return (out.Responses?.[this.table.name] ?? []).map((i) => strip<Role>(i));
  }

  listRoles(tenantId: string, page: PageRequest): Promise<Page<Role>> {
    return this.table.page(tenantId, 'roles', this.prefixQuery(tenantId, keys.prefix.role), page, (i) =>
      strip<Role>(i),
    );
  }

  async updateRole(tenantId: string, next: Role, previous: Role, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        unchanged(
          this.table,
          { ...keys.role(tenantId, next.name), type: 'role', ...next },
          previous.updatedAt,
        ),
      ],
      changed,
    );
  }

  async deleteRole(tenantId: string, role: Role, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(keys.role(tenantId, role.name), EXISTS)],
      () => new NotFoundError('No such role.'),
    );
  }

  async createApiKey(tenantId: string, key: ApiKeyRecord, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.put({ ...keys.apiKey(tenantId, key.keyId), type: 'apiKey', ...key }, NEW)],
      () => new ConflictError('This key id already exists.'),
    );
  }

  async getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.apiKey(tenantId, keyId));
    return item ? strip<ApiKeyRecord>(item) : undefined;
  }

  listApiKeys(tenantId: string, page: PageRequest): Promise<Page<ApiKeyRecord>> {
    return this.table.page(tenantId, 'apikeys', this.prefixQuery(tenantId, keys.prefix.apiKey), page, (i) =>
      strip<ApiKeyRecord>(i),
    );
  }

  async updateApiKey(
    tenantId: string,
    next: ApiKeyRecord,
    previous: ApiKeyRecord,
    audit: AuditContext,
  ): Promise<void> {
    // lastUsedAt moves without audit, so the optimistic check uses the secret hash and status instead.
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.apiKey(tenantId, next.keyId), type: 'apiKey', ...next },
          '#h = :h AND #s = :s',
          { '#h': 'secretHash', '#s': 'status' },
          { ':h': previous.secretHash, ':s': previous.status },
        ),
      ],
      changed,
    );
  }

  async touchApiKey(tenantId: string, keyId: string, at: string): Promise<void> {
    const db = await this.table.clients.forTenant(tenantId);
    await db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.apiKey(tenantId, keyId),
        UpdateExpression: 'SET lastUsedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async putSecretMeta(
    tenantId: string,
    next: SecretMeta,
    previous: SecretMeta | undefined,
    audit: AuditContext,
  ): Promise<void> {
    const item = { ...keys.secret(tenantId, next.name), type: 'secret', ...next };
    await this.table.commit(
      audit,
      [
        previous
          ? this.table.put(item, '#v = :v', { '#v': 'version' }, { ':v': previous.version })
          : this.table.put(item, NEW),
      ],
      changed,
    );
  }

  async getSecretMeta(tenantId: string, name: string): Promise<SecretMeta | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.secret(tenantId, name));
    return item ? strip<SecretMeta>(item) : undefined;
  }

  listSecrets(tenantId: string, page: PageRequest): Promise<Page<SecretMeta>> {
    return this.table.page(tenantId, 'secrets', this.prefixQuery(tenantId, keys.prefix.secret), page, (i) =>
      strip<SecretMeta>(i),
    );
  }

  async deleteSecretMeta(tenantId: string, meta: SecretMeta, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(keys.secret(tenantId, meta.name), EXISTS)],
      () => new NotFoundError('No such secret.'),
    );
  }

  listAudit(tenantId: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>> {
    const conditions: string[] = [];
    const names: Record<string, string> = { '#pk': 'pk', '#sk': 'sk' };
    const values: Record<string, unknown> = {
      ':pk': keys.auditPartition(tenantId),
      ':p': keys.prefix.auditRecord,
    };
    if (filter.actor) {
      conditions.push('#actor.#id = :actor');
      names['#actor'] = 'actor';
      names['#id'] = 'id';
      values[':actor'] = filter.actor;
    }
    if (filter.action) {
      conditions.push('#action = :action');
      names['#action'] = 'action';
      values[':action'] = filter.action;
    }
    if (filter.resource) {
      conditions.push('(#rid = :res OR #rtype = :res)');
      names['#rid'] = 'resourceId';
      names['#rtype'] = 'resourceType';
      values[':res'] = filter.resource;
    }
    if (filter.from) {
      conditions.push('#at >= :from');
      names['#at'] = 'at';
      values[':from'] = filter.from;
    }
    if (filter.to) {
      conditions.push('#at <= :to');
      names['#at'] = 'at';
      values[':to'] = filter.to;
    }
    return this.table.page(
      tenantId,
      'audit',
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :p)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
        // Newest first: what an auditor reads first.
        ScanIndexForward: false,
      },
      page,
      auditRecordOf,
    );
  }

  async recordAuthEvent(tenantId: string, event: AuthEvent): Promise<void> {
    const record = buildRecord({
      tenantId,
      actor: event.actor,
      meta: { requestId: 'authorizer', sourceIp: '', userAgent: event.userAgent, now: event.at },
      draft: {
        action: event.action,
        resourceType: event.actor.type === 'apikey' ? 'apikey' : 'user',
        resourceId: event.actor.id,
        ...(event.reason ? { after: { reason: event.reason } } : {}),
      },
    });
    const item: Record<string, unknown> = { type: 'audit', ...record };
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(item).map(([k, v], i) => {
      names[`#a${i}`] = k;
      values[`:a${i}`] = v;
      return `#a${i} = :a${i}`;
    });
    const db = await this.table.clients.forTenant(tenantId);
    await db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.auditRecord(tenantId, record.id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_not_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async readAuditRecords(tenantId: string): Promise<AuditRecord[]> {
    const items = await this.table.queryAll(
      tenantId,
      keys.auditPartition(tenantId),
      keys.prefix.auditRecord,
      true,
    );
    return items.map(auditRecordOf);
  }

  private prefixQuery(tenantId: string, prefix: string) {
    return {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': keys.tenant(tenantId).pk, ':p': prefix },
    };
  }
}

/** A new user's email (every invitation has one; only erasure removes it). */
function emailOf(user: User): string {
  if (!user.email) throw new Error('A new user needs an email');
  return user.email;
}

/** An audit item as its record: without the TTL the stream consumer sets once it is archived. */
function auditRecordOf(item: Record<string, unknown>): AuditRecord {
  const { expiresAt: _ttl, ...record } = strip<Record<string, unknown>>(item);
  return record as unknown as AuditRecord;
}
