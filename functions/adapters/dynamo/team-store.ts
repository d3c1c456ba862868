import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { Page, PageRequest, Team } from '#core/tenancy/model.ts';
import type { TeamStore, UserChange } from '#core/tenancy/ports.ts';
import * as keys from './item-keys.ts';
import { strip, type Table } from './table.ts';
import { changed, EXISTS, memberWrites, NEW, prefixQuery, unchanged } from './tenancy-items.ts';

/**
 * DynamoDB implementation of {@link TeamStore}: a team item, a name item keeping names unique, and the
 * members' user items, all written in one transaction.
 */
export class DynamoTeamStore implements TeamStore {
  constructor(private readonly table: Table) {}

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
        ...memberWrites(this.table, members),
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
    return this.table.page(tenantId, 'teams', prefixQuery(tenantId, keys.prefix.team), page, (i) =>
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
        ...memberWrites(this.table, members),
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
        ...memberWrites(this.table, members),
      ],
      (i) => (i === 0 ? new NotFoundError('No such team.') : changed()),
    );
  }
}
