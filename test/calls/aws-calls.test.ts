import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { parseCallLog } from '../../bin/local/call-log.ts';
import { AWS_CALLS, FUNCTION_NAMES } from '../../lib/aws-calls.ts';

// Nothing local enforces IAM, so a function sending a command lib/aws-calls.ts does not grant it
// would pass every other test and fail on AWS. The integration platform logs what each function sent.
describe('the AWS calls each function made in the integration suite', () => {
  const file = inject('awsCallLog');
  const calls = () => {
    if (!existsSync(file))
      throw new Error(`No call log at ${file}: this project runs after the integration project`);
    return parseCallLog(readFileSync(file, 'utf8'));
  };

  it('are each granted to that function by lib/aws-calls.ts, as the file on the stack sends it', () => {
    // Act: a listed call grants its function the call's targets; it must be the one that ran.
    const unlisted = calls().filter(
      ({ fn, command, files }) =>
        !AWS_CALLS.some(
          (c) => c.command === command && c.functions.some((f) => f === fn) && files.includes(c.file),
        ),
    );
    // Assess
    expect(unlisted).toEqual([]);
  });

  it('were recorded for every function the local platform runs', () => {
    // The functions whose AWS calls the local platform makes for real (the others' services are local).
    const seen = new Set(calls().map((c) => c.fn));
    expect([...seen].sort()).toEqual([...FUNCTION_NAMES].sort());
  });
});
