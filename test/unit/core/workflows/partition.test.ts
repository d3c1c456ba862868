/** The compiled ASL names resources in the partition the stack is deployed to, and retries Lambda's transient errors. */
import { describe, expect, it } from 'vitest';
import {
  type AslObject,
  compileWorkflow,
  lambdaInvokeResource,
  partitionOf,
} from '#core/workflows/compile.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { catalog, compileOptions, workflow } from './fixtures.ts';

const definition = validateWorkflow(
  workflow({
    ask: { type: 'agent', agentId: 'writer', prompt: 'hi', next: 'approve' },
    approve: { type: 'approval', next: 'done' },
    done: { type: 'succeed' },
  }),
  catalog,
);

function compiledIn(partition: string): Record<string, AslObject> {
  const arn = (name: string) => `arn:${partition}:lambda:cn-north-1:123456789012:function:${name}`;
  const { asl } = compileWorkflow(definition, {
    ...compileOptions,
    stepRunnerArn: arn('step-runner'),
    approvalHandlerArn: arn('approval'),
  });
  return asl.States as Record<string, AslObject>;
}

describe('partition', () => {
  it.each(['aws', 'aws-cn', 'aws-us-gov'])(
    'compiles Lambda task resources in the %s partition',
    (partition) => {
      const states = compiledIn(partition);
      expect(states.ask?.Resource).toBe(`arn:${partition}:states:::lambda:invoke`);
      expect(states.approve?.Resource).toBe(`arn:${partition}:states:::lambda:invoke.waitForTaskToken`);
    },
  );

  it('reads the partition from an ARN and refuses what is not one', () => {
    expect(partitionOf('arn:aws-cn:lambda:cn-north-1:1:function:f')).toBe('aws-cn');
    expect(() => partitionOf('step-runner')).toThrow(/Not an ARN/);
  });

  it('builds the resource for either integration pattern', () => {
    expect(lambdaInvokeResource('aws-iso', false)).toBe('arn:aws-iso:states:::lambda:invoke');
    expect(lambdaInvokeResource('aws-iso', true)).toBe('arn:aws-iso:states:::lambda:invoke.waitForTaskToken');
  });
});

describe('Lambda retries', () => {
  it.each(['ask', 'approve'])(
    'the %s task retries ClientExecutionTimeoutException with the other service errors',
    (id) => {
      const retry = compiledIn('aws')[id]?.Retry as AslObject[];
      const service = retry.find((r) => (r.ErrorEquals as string[]).includes('Lambda.ServiceException'));
      expect(service?.ErrorEquals).toEqual(
        expect.arrayContaining(['Lambda.ClientExecutionTimeoutException', 'Lambda.TooManyRequestsException']),
      );
    },
  );
});
