/**
 * Type of the document `console/scripts/schemas.ts` generates into schemas.js (gitignored, written by
 * `npm run console:build`): the API's published `Agent`, `Tool` and `Workflow` schemas and the
 * schemas they refer to.
 */
declare const document: { readonly components: { readonly schemas: Readonly<Record<string, unknown>> } };
export default document;
