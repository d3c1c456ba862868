import { adapters } from '#adapters/wiring/api.ts';
import { CHANNEL_TYPES, MAX_CHANNELS, NOTIFICATION_EVENTS } from '#core/notifications/model.ts';
import {
  createChannel,
  deleteChannel,
  getNotification,
  listChannels,
  listNotifications,
} from '#core/notifications/service.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { extend, oneOf, t } from '#shared/schema.ts';
import { authErrors, created, idParam, pageOf, pageQuery } from './schemas.ts';
import { notificationChannelView, notificationView, pageOfItems } from './views.ts';

const deps = () => adapters().notifications;

/** Notification channels (create, list, delete) and the notifications sent, with their delivery logs. */
export const notificationRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/notification-channels',
    summary: "The tenant's notification channels (secrets are shown only at creation)",
    tag: 'notifications',
    auth: 'notifications:manage',
    query: pageQuery,
    responses: {
      200: { description: 'Channels', schema: pageOfItems(notificationChannelView) },
      ...authErrors,
    },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listChannels(deps(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/notification-channels',
    summary: `Create a channel (email, slack or a signed webhook) for some events; at most ${MAX_CHANNELS}. A webhook channel's signing secret is returned once`,
    tag: 'notifications',
    auth: 'notifications:manage',
    body: t.Object(
      {
        name: t.String({ minLength: 1, maxLength: 100 }),
        type: oneOf(CHANNEL_TYPES),
        events: t.Array(oneOf(NOTIFICATION_EVENTS), { minItems: 1, maxItems: NOTIFICATION_EVENTS.length }),
        target: t.String({
          minLength: 1,
          maxLength: 2048,
          description: 'email: an address; slack and webhook: an https URL',
        }),
      },
      { additionalProperties: false },
    ),
    responses: {
      201: {
        description: 'Created',
        schema: extend(notificationChannelView, {
          secret: t.Optional(
            t.String({
              description: 'webhook: the HMAC signing secret, shown this once (Meridian-Signature)',
            }),
          ),
        }),
        headers: created,
      },
      ...authErrors,
      409: { description: 'The tenant has as many channels as it may' },
    },
    handler: async ({ principal, meta, body }) => {
      const { channel, secret } = await createChannel(deps(), { principal, meta }, body);
      return {
        status: 201,
        body: { ...channel, ...(secret ? { secret } : {}) },
        headers: { location: `/notification-channels/${channel.channelId}` },
      };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/notification-channels/{channelId}',
    summary: 'Delete a channel; its pending deliveries are refused',
    tag: 'notifications',
    auth: 'notifications:manage',
    params: t.Object({ channelId: idParam }, { additionalProperties: false }),
    responses: { 204: { description: 'Deleted' }, ...authErrors, 404: { description: 'No such channel' } },
    handler: async ({ principal, meta, params }) => {
      await deleteChannel(deps(), { principal, meta }, params.channelId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/notifications',
    summary:
      'Notifications sent, newest first, each with its delivery log (attempts, status codes, errors, next attempt)',
    tag: 'notifications',
    auth: 'notifications:manage',
    query: pageQuery,
    responses: {
      200: { description: 'Notifications', schema: pageOfItems(notificationView) },
      ...authErrors,
    },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listNotifications(deps(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/notifications/{notificationId}',
    summary: 'One notification with its delivery log',
    tag: 'notifications',
    auth: 'notifications:manage',
    params: t.Object({ notificationId: idParam }, { additionalProperties: false }),
    responses: {
      200: { description: 'The notification', schema: notificationView },
      ...authErrors,
      404: { description: 'No such notification' },
    },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await getNotification(deps(), principal.tenantId, params.notificationId),
    }),
  }),
];
