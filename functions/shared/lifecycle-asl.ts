/**
 * The state machine of a lifecycle job (offboarding, export): one Lambda task that does one bounded
 * batch and records its progress, looped until the task says the job is done. The same definition
 * is deployed to Step Functions (lib/constructs/lifecycle.ts) and run locally by
 * aws-local-stepfunctions (bin/local/handlers.ts). A Standard execution holds 25,000 history events
 * (about 5,000 batches here); the task records progress, so a new run continues where one stopped.
 */
export function lifecycleDefinition(
  kind: 'offboarding' | 'export',
  functionArn: string,
  /** `aws` locally; the stack passes its partition, so no ARN is written for one partition only. */
  partition = 'aws',
): Record<string, unknown> {
  return {
    Comment: `Meridian ${kind} job: batches until done`,
    StartAt: 'Batch',
    States: {
      Batch: {
        Type: 'Task',
        Resource: `arn:${partition}:states:::lambda:invoke`,
        Parameters: {
          FunctionName: functionArn,
          Payload: { kind, 'tenantId.$': '$.tenantId', 'jobId.$': '$.jobId' },
        },
        ResultSelector: { 'done.$': '$.Payload.done' },
        ResultPath: '$.result',
        TimeoutSeconds: 900,
        Retry: [
          {
            ErrorEquals: ['States.ALL'],
            IntervalSeconds: 2,
            MaxAttempts: 6,
            BackoffRate: 2,
          },
        ],
        Next: 'Done',
      },
      Done: {
        Type: 'Choice',
        Choices: [{ Variable: '$.result.done', BooleanEquals: true, Next: 'Finished' }],
        Default: 'Batch',
      },
      Finished: { Type: 'Succeed' },
    },
  };
}
