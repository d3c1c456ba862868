import { NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import { audited, type Caller, readAll } from './context.ts';
import type { Page, PageRequest, Team, User } from './model.ts';
import type { TeamStore, UserChange, UserStore } from './ports.ts';

/** Teams and their members: membership lives on the users. */
export type TeamsAndMembers = TeamStore & Pick<UserStore, 'getUser' | 'listUsers'>;

/** A team as the API shows it: with its members (read from the users, who carry membership). */
export interface TeamView extends Team {
  readonly members: readonly string[];
}

/** The most members one request may set: one transaction holds at most 100 writes. */
export const MAX_TEAM_MEMBERS_PER_CHANGE = 90;

async function membersOf(
  store: Pick<UserStore, 'listUsers'>,
  tenantId: string,
  teamId: string,
): Promise<User[]> {
  return (await readAll((p) => store.listUsers(tenantId, p))).filter((u) => u.teams.includes(teamId));
}

async function membershipChanges(
  store: Pick<UserStore, 'getUser'>,
  caller: Caller,
  teamId: string,
  wanted: readonly string[],
  current: readonly User[],
): Promise<UserChange[]> {
  const tenantId = caller.principal.tenantId;
  const wantedSet = new Set(wanted);
  const currentIds = new Set(current.map((u) => u.userId));
  const problems: { path: string; message: string }[] = [];
  const added = await Promise.all(
    [...wantedSet]
      .filter((id) => !currentIds.has(id))
      .map(async (id) => {
        const user = await store.getUser(tenantId, id);
        if (!user) problems.push({ path: `members.${wanted.indexOf(id)}`, message: `unknown user ${id}` });
        return user;
      }),
  );
  if (problems.length > 0) throw new ValidationError('Unknown team member.', problems);
  const changes: UserChange[] = [];
  for (const user of added) {
    if (user)
      changes.push({
        previous: user,
        next: { ...user, teams: [...user.teams, teamId], updatedAt: caller.meta.now },
      });
  }
  for (const user of current) {
    if (!wantedSet.has(user.userId)) {
      changes.push({
        previous: user,
        next: { ...user, teams: user.teams.filter((t) => t !== teamId), updatedAt: caller.meta.now },
      });
    }
  }
  if (changes.length > MAX_TEAM_MEMBERS_PER_CHANGE) {
    throw new ValidationError(`At most ${MAX_TEAM_MEMBERS_PER_CHANGE} membership changes per request.`, [
      { path: 'members', message: 'too many changes at once' },
    ]);
  }
  return changes;
}

/** Creates a team, optionally with members. */
export async function createTeam(
  store: TeamsAndMembers,
  caller: Caller,
  input: { name: string; description?: string; members?: string[] },
): Promise<TeamView> {
  const team: Team = {
    teamId: newId('m'),
    name: input.name,
    ...(input.description ? { description: input.description } : {}),
    createdAt: caller.meta.now,
    updatedAt: caller.meta.now,
  };
  const changes = await membershipChanges(store, caller, team.teamId, input.members ?? [], []);
  const view = { ...team, members: changes.map((c) => c.next.userId) };
  await store.createTeam(
    caller.principal.tenantId,
    team,
    changes,
    audited(caller, { action: 'team.create', resourceType: 'team', resourceId: team.teamId, after: view }),
  );
  return view;
}

/** One team with its members, or 404. */
export async function getTeam(store: TeamsAndMembers, tenantId: string, teamId: string): Promise<TeamView> {
  const team = await store.getTeam(tenantId, teamId);
  if (!team) throw new NotFoundError(`No team ${teamId}.`);
  return { ...team, members: (await membersOf(store, tenantId, teamId)).map((u) => u.userId) };
}

/** Lists teams (without members; read one team for them). */
export function listTeams(store: TeamStore, tenantId: string, page: PageRequest): Promise<Page<Team>> {
  return store.listTeams(tenantId, page);
}

/** Renames a team or replaces its members. */
export async function updateTeam(
  store: TeamsAndMembers,
  caller: Caller,
  teamId: string,
  patch: { name?: string; description?: string; members?: string[] },
): Promise<TeamView> {
  const tenantId = caller.principal.tenantId;
  const previous = await store.getTeam(tenantId, teamId);
  if (!previous) throw new NotFoundError(`No team ${teamId}.`);
  const current = await membersOf(store, tenantId, teamId);
  const changes = patch.members ? await membershipChanges(store, caller, teamId, patch.members, current) : [];
  const next: Team = {
    ...previous,
    ...(patch.name ? { name: patch.name } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    updatedAt: caller.meta.now,
  };
  const members = patch.members ? [...new Set(patch.members)] : current.map((u) => u.userId);
  const before = { ...previous, members: current.map((u) => u.userId) };
  await store.updateTeam(
    tenantId,
    next,
    previous,
    changes,
    audited(caller, {
      action: 'team.update',
      resourceType: 'team',
      resourceId: teamId,
      before,
      after: { ...next, members },
    }),
  );
  return { ...next, members };
}

/** Deletes a team and removes it from its members. */
export async function deleteTeam(store: TeamsAndMembers, caller: Caller, teamId: string): Promise<void> {
  const tenantId = caller.principal.tenantId;
  const team = await store.getTeam(tenantId, teamId);
  if (!team) throw new NotFoundError(`No team ${teamId}.`);
  const changes = await membershipChanges(
    store,
    caller,
    teamId,
    [],
    await membersOf(store, tenantId, teamId),
  );
  await store.deleteTeam(
    tenantId,
    team,
    changes,
    audited(caller, { action: 'team.delete', resourceType: 'team', resourceId: teamId, before: team }),
  );
}
