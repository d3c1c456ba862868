/*
 * The API function's adapters under their old name: its routes (functions/handlers/routes/) read
 * them from here. Every function has its own composition root in functions/adapters/wiring/.
 */
export { adapters, type Container } from './wiring/api.ts';
export { useLocalExecutionEngine, useLocalJobRunner, useLocalScheduleTrigger } from './wiring/local.ts';
export type { NotificationTransport } from './wiring/notifications.ts';
