/**
 * Fails when clients/meridian.d.ts is not what the current spec generates (run `npm run
 * client:generate` and commit the result). Generates into .openapi/ and compares.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const generated = '.openapi/meridian.d.ts';
execFileSync(
  'tools/openapi-types/node_modules/.bin/openapi-typescript',
  ['.openapi/openapi.json', '-o', generated, '--default-non-nullable=false'],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const committed = readFileSync('clients/meridian.d.ts', 'utf8');
if (readFileSync(generated, 'utf8') !== committed) {
  console.error(
    'clients/meridian.d.ts is out of date with the spec: run `npm run client:generate` and commit it.',
  );
  process.exit(1);
}
console.log('clients/meridian.d.ts is up to date with the spec');
