/**
 * Strict validation of the generated spec with @readme/openapi-parser: the OpenAPI 3.1 schema, every
 * `$ref` resolving, and its structural rules as errors. Exits non-zero with each problem named.
 */
import { compileErrors, validate } from '@readme/openapi-parser';

const file = process.argv[2] ?? '.openapi/openapi.json';
const result = await validate(file, {
  validate: {
    errors: { colorize: false },
    rules: {
      openapi: {
        'array-without-items': 'error',
        'duplicate-non-request-body-parameters': 'error',
        'duplicate-operation-id': 'error',
        'invalid-security-scheme-properties': 'error',
        'non-optional-path-parameters': 'error',
        'path-parameters-not-in-parameters': 'error',
        'path-parameters-not-in-path': 'error',
        'unknown-required-schema-property': 'error',
      },
    },
  },
});
if (!result.valid || result.warnings.length > 0) {
  console.error(compileErrors(result));
  process.exit(1);
}
console.log(`${file}: valid OpenAPI (strict)`);
