/**
 * Type of the schemas `console/scripts/schemas.ts` generates into schemas.js (gitignored, written by
 * `npm run console:build`): the API's `Agent`, `Tool` and `Workflow` request schemas.
 */
declare const schemas: Readonly<Record<'Agent' | 'Tool' | 'Workflow', Readonly<Record<string, unknown>>>>;
export default schemas;
