import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../helpers/api.ts';
import { createTenant, type TestTenant, uniqueEmail, uniqueName } from '../../helpers/tenants.ts';
import { errorPaths, expectProblem, listAll, statusOf, type TeamView, type UserView } from './helpers.ts';

describe('teams', () => {
  let tenant: TestTenant;
  let admin: string;
  let members: string[];
  beforeAll(async () => {
    tenant = await createTenant('teams');
    admin = await tenant.token();
    members = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const made = await call<UserView>('POST', '/users', {
          token: admin,
          body: { email: uniqueEmail(`member${n}`), roles: ['viewer'] },
        });
        expect(made.status, made.text).toBe(201);
        return made.body.userId;
      }),
    );
  });

  const teamsOf = async (userId: string): Promise<string[]> =>
    (await call<UserView>('GET', `/users/${userId}`, { token: admin })).body.teams;

  it('creates a team with members (201 + Location); reading it lists them and the users carry it', async () => {
    // Prepare
    const [m1 = '', m2 = ''] = members;
    const name = uniqueName('Platform Team');
    // Act
    const created = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name, members: [m1, m2] },
    });
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/teams/${created.body.teamId}`);
    const read = await call<TeamView>('GET', `/teams/${created.body.teamId}`, { token: admin });
    expect(read.body.name).toBe(name);
    expect([...read.body.members].sort()).toEqual([m1, m2].sort());
    expect(await teamsOf(m1)).toContain(created.body.teamId);
    expect(await teamsOf(m2)).toContain(created.body.teamId);
    const listed = await listAll<TeamView>('/teams', { token: admin });
    expect(listed.map((t) => t.teamId)).toContain(created.body.teamId);
  });

  it('inviting a user into a team (teams: [...]) makes them a member', async () => {
    // Prepare
    const created = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name: uniqueName('invitees') },
    });
    // Act
    const invited = await call<UserView>('POST', '/users', {
      token: admin,
      body: { email: uniqueEmail('joiner'), roles: ['viewer'], teams: [created.body.teamId] },
    });
    // Assess
    expect(invited.status, invited.text).toBe(201);
    expect(invited.body.teams).toEqual([created.body.teamId]);
    const read = await call<TeamView>('GET', `/teams/${created.body.teamId}`, { token: admin });
    expect(read.body.members).toEqual([invited.body.userId]);
  });

  it('renames a team and replaces its members', async () => {
    // Prepare
    const [m1 = '', m2 = '', m3 = ''] = members;
    const created = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name: uniqueName('before'), members: [m1, m2] },
    });
    const teamId = created.body.teamId;
    const renamed = uniqueName('after');
    // Act
    const rename = await call<TeamView>('PATCH', `/teams/${teamId}`, {
      token: admin,
      body: { name: renamed },
    });
    const replace = await call<TeamView>('PATCH', `/teams/${teamId}`, {
      token: admin,
      body: { members: [m2, m3] },
    });
    // Assess
    expect(rename.status, rename.text).toBe(200);
    expect(replace.status, replace.text).toBe(200);
    const read = await call<TeamView>('GET', `/teams/${teamId}`, { token: admin });
    expect(read.body.name).toBe(renamed);
    expect([...read.body.members].sort()).toEqual([m2, m3].sort());
    expect(await teamsOf(m1)).not.toContain(teamId);
    expect(await teamsOf(m2)).toContain(teamId);
    expect(await teamsOf(m3)).toContain(teamId);
  });

  it('a duplicate name is 409 (on create and on rename, any case); an unknown member is 400 naming members.N', async () => {
    // Prepare
    const name = uniqueName('dup-team');
    const first = await call<TeamView>('POST', '/teams', { token: admin, body: { name } });
    const second = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name: uniqueName('second') },
    });
    // Act
    const duplicate = await call('POST', '/teams', { token: admin, body: { name } });
    const upper = await call('POST', '/teams', { token: admin, body: { name: name.toUpperCase() } });
    const renameOnto = await call('PATCH', `/teams/${second.body.teamId}`, { token: admin, body: { name } });
    const unknownMember = await call('POST', '/teams', {
      token: admin,
      body: { name: uniqueName('ghosts'), members: [members[0] ?? '', 'no-such-user'] },
    });
    // Assess
    expect(first.status).toBe(201);
    expectProblem(duplicate, 409, 'conflict');
    expectProblem(upper, 409, 'conflict');
    expectProblem(renameOnto, 409, 'conflict');
    expectProblem(unknownMember, 400, 'validation-error');
    expect(errorPaths(unknownMember)).toEqual(['members.1']);
  });

  it("DELETE removes the team (204, then 404) and from its members' teams; the name is free again", async () => {
    // Prepare
    const [m1 = '', m2 = ''] = members;
    const name = uniqueName('doomed');
    const created = await call<TeamView>('POST', '/teams', {
      token: admin,
      body: { name, members: [m1, m2] },
    });
    const teamId = created.body.teamId;
    // Act
    const deleted = await call('DELETE', `/teams/${teamId}`, { token: admin });
    // Assess
    expect(deleted.status, deleted.text).toBe(204);
    expectProblem(await call('GET', `/teams/${teamId}`, { token: admin }), 404, 'not-found');
    expect(await teamsOf(m1)).not.toContain(teamId);
    expect(await teamsOf(m2)).not.toContain(teamId);
    expect(await statusOf('POST', '/teams', { token: admin, body: { name } })).toBe(201);
  });
});
