import { describe, expect, it, vi } from 'vitest';
import type { Channel } from '#core/notifications/model.ts';
import type { NotificationStore } from '#core/notifications/ports.ts';
import { deleteAllForTenant } from '#core/notifications/service.ts';
import type { SecretVault } from '#core/tenancy/ports.ts';

const T = 'tabcdefghijklmnop';

const channel = (channelId: string, type: Channel['type']): Channel =>
  ({ channelId, type, name: channelId, events: ['execution.failed'], target: 'x' }) as unknown as Channel;

describe('offboarding a tenant’s notifications', () => {
  it('deletes the vault entry of every webhook and Slack channel, then the channels and notifications', async () => {
    // Prepare
    const order: string[] = [];
    const store = {
      allChannels: vi.fn(async () => [
        channel('c1', 'email'),
        channel('c2', 'webhook'),
        channel('c3', 'slack'),
      ]),
      deleteAllForTenant: vi.fn(async () => {
        order.push('items');
        return 7;
      }),
    } as unknown as NotificationStore;
    const vault = {
      delete: vi.fn(async (_t: string, name: string) => {
        order.push(name);
      }),
    } as unknown as SecretVault;
    // Act
    const erased = await deleteAllForTenant({ store, vault }, T);
    // Assess
    expect(erased).toBe(7);
    expect(vault.delete).toHaveBeenCalledTimes(2);
    expect(vault.delete).toHaveBeenCalledWith(T, expect.stringContaining('c2'));
    expect(vault.delete).toHaveBeenCalledWith(T, expect.stringContaining('c3'));
    expect(order.at(-1)).toBe('items');
  });
});
