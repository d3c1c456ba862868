import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuditRecord } from '#core/audit/audit.ts';
import { type ApiResponse, call } from '../../helpers/api.ts';
import { createTenant, eventually, type TestTenant, uniqueName } from '../../helpers/tenants.ts';
import { expectProblem, listAll, type Page, type SecretView, statusOf } from './helpers.ts';

describe('secrets', () => {
  let tenant: TestTenant;
  let admin: string;
  beforeAll(async () => {
    tenant = await createTenant('secrets');
    admin = await tenant.token();
  });

  it('PUT creates (201) then replaces (200, version 2); values never come back out, not even in /audit or the logs', async () => {
    // Prepare
    const name = uniqueName('openai.key');
    const first = `sk-first-${randomBytes(12).toString('hex')}`;
    const second = `sk-second-${randomBytes(12).toString('hex')}`;
    const answers: ApiResponse<unknown>[] = [];
    // Act
    const created = await call<SecretView>('PUT', `/secrets/${name}`, {
      token: admin,
      body: { value: first, description: 'provider key' },
    });
    const replaced = await call<SecretView>('PUT', `/secrets/${name}`, {
      token: admin,
      body: { value: second },
    });
    const invalid = await call('PUT', `/secrets/${name}`, {
      token: admin,
      body: { value: second, description: 'x'.repeat(600) },
    });
    answers.push(created, replaced, invalid);
    answers.push(await call('GET', '/secrets?limit=100', { token: admin }));
    answers.push(await call('GET', '/audit?limit=100', { token: admin }));
    const auditOfSecret = await call<Page<AuditRecord>>('GET', `/audit?resource=${name}`, { token: admin });
    answers.push(auditOfSecret);
    // Assess
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/secrets/${name}`);
    expect(created.body).toMatchObject({ name, version: 1, description: 'provider key' });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body).toMatchObject({ name, version: 2, description: 'provider key' });
    expect(replaced.body.createdAt).toBe(created.body.createdAt);
    expect(replaced.body.updatedAt >= created.body.updatedAt).toBe(true);
    expectProblem(invalid, 400, 'validation-error');
    const listed = (await listAll<SecretView & { value?: unknown }>('/secrets', { token: admin })).find(
      (s) => s.name === name,
    );
    expect(listed).toMatchObject({ name, version: 2, description: 'provider key' });
    expect(Object.keys(listed ?? {}).sort()).toEqual([
      'allowedRoles',
      'createdAt',
      'description',
      'name',
      'updatedAt',
      'version',
    ]);
    for (const answer of answers) {
      expect(answer.text).not.toContain(first);
      expect(answer.text).not.toContain(second);
    }
    expect(auditOfSecret.body.items.map((r) => r.action)).toEqual(['secret.update', 'secret.create']);
    // The platform's own output (stdout and stderr of the platform process) never holds a value.
    expect(await statusOf('GET', '/me', { apiKey: 'mk_garbage' })).toBe(401);
    const logs = await eventually(() => {
      const text = readFileSync(inject('platformLogFile'), 'utf8');
      expect(text, 'the log file receives handler logs').toContain('Credential refused');
      return text;
    });
    expect(logs).not.toContain(first);
    expect(logs).not.toContain(second);
  });

  it('DELETE: 204, gone from the list, a second DELETE is 404', async () => {
    // Prepare
    const name = uniqueName('tmp');
    expect(await statusOf('PUT', `/secrets/${name}`, { token: admin, body: { value: 'v' } })).toBe(201);
    // Act
    const deleted = await call('DELETE', `/secrets/${name}`, { token: admin });
    const again = await call('DELETE', `/secrets/${name}`, { token: admin });
    // Assess
    expect(deleted.status, deleted.text).toBe(204);
    expectProblem(again, 404, 'not-found');
    const listed = await listAll<SecretView>('/secrets', { token: admin });
    expect(listed.map((s) => s.name)).not.toContain(name);
    // Re-created after deletion, it starts over at version 1.
    const recreated = await call<SecretView>('PUT', `/secrets/${name}`, {
      token: admin,
      body: { value: 'w' },
    });
    expect(recreated.status).toBe(201);
    expect(recreated.body.version).toBe(1);
  });
});
