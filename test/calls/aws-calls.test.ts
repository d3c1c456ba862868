import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { type LoggedCall, parseCallLog } from '../../bin/local/call-log.ts';
import { AWS_CALLS, FUNCTION_NAMES, TENANT_ITEM_TARGETS } from '../../lib/aws-calls.ts';

// Nothing local enforces IAM, so a function sending a command lib/aws-calls.ts does not grant it
// would pass every other test and fail on AWS. The integration platform logs what each function sent.
describe('the AWS calls each function made in the integration suite', () => {
  const file = inject('awsCallLog');
  const calls = () => {
    if (!existsSync(file))
      throw new Error(`No call log at ${file}: this project runs after the integration project`);
    return parseCallLog(readFileSync(file, 'utf8'));
  };
  /** The listed calls that grant `call`: its command, for its function, sent by a file on its stack. */
  const listedFor = ({ fn, command, files }: LoggedCall) =>
    AWS_CALLS.filter(
      (c) => c.command === command && c.functions.some((f) => f === fn) && files.includes(c.file),
    );

  it('are each granted to that function by lib/aws-calls.ts, as the file on the stack sends it', () => {
    // Act: a listed call grants its function the call's targets; it must be the one that ran.
    const unlisted = calls().filter((call) => listedFor(call).length === 0);
    // Assess
    expect(unlisted).toEqual([]);
  });

  it("reach only the tenant partitions of the listed call's targets, each with one of its actions", () => {
    // Act
    const beyond = calls().flatMap((call) => {
      const { fn, command, files, targets } = call;
      const listed = listedFor(call);
      // The audit stream consumer's target is every tenant's audit partition.
      const reaches = (target: string) => (t: string) =>
        t === target || (t === 'everyTenantAuditItem' && target === 'auditItem');
      const outside = targets.filter((pair) => {
        const [action, target = ''] = pair.split('@');
        return !listed.some(
          (c) => c.actions.includes(`dynamodb:${action}`) && c.targets.some(reaches(target)),
        );
      });
      return outside.length > 0 ? [`${fn} ${command} from ${files[0]}: ${outside.join(', ')}`] : [];
    });
    // Assess
    expect(beyond).toEqual([]);
  });

  it("went on the session the listed call names: the tenant data role with only its tenant's keys, or the function's own", () => {
    // Act
    const wrong = calls()
      .filter((c) => c.session !== '-')
      .flatMap((call) => {
        const { fn, command, files, session } = call;
        const listed = listedFor(call);
        const via = session === 'tenant' ? 'tenantRole' : 'functionRole';
        return session === 'outside' || !listed.some((c) => c.via === via)
          ? [`${fn} ${command} from ${files[0]} on a ${session} session`]
          : [];
      });
    // Assess
    expect(wrong).toEqual([]);
  });

  it('were recorded for every function the local platform runs, with the partitions they reached', () => {
    const seen = new Set(calls().map((c) => c.fn));
    expect([...seen].sort()).toEqual([...FUNCTION_NAMES].sort());
    const reached = new Set(calls().flatMap((c) => c.targets.map((pair) => pair.split('@')[1])));
    expect([...reached].sort()).toEqual([...TENANT_ITEM_TARGETS].sort());
  });
});
