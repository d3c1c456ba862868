/**
 * Writes the OpenAPI document the code generates to a file (default `.openapi/openapi.json`,
 * git-ignored), for the spec checkers in `npm run lint:api` and the client generator.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { openApiDocument } from '#handlers/routes/index.ts';

const out = process.argv[2] ?? '.openapi/openapi.json';
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`OpenAPI written to ${out}`);
