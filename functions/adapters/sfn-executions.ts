import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  ExecutionNotRedrivable,
  InvalidToken,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { ConflictError, TransientError } from '#core/errors.ts';
import type { ExecutionEngine } from '#core/executions/ports.ts';
import type { SfnFor } from './sfn-engine.ts';

/** The execution ARN Step Functions gives a named execution of a state machine. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * Step Functions as the {@link ExecutionEngine}: executions start on the environment's alias and
 * are named by the execution id, which Step Functions keeps unique per state machine. Starts, stops
 * and redrives go through the client of the tenant they name (on AWS, fenced by IAM to that tenant's
 * machines); approval answers through `own`, the function's client, as a task token authorizes them
 * (built when first used: the functions that never answer an approval never build it).
 */
export class SfnExecutionEngine implements ExecutionEngine {
  constructor(
    private readonly sfnFor: SfnFor,
    private readonly own: () => SFNClient,
  ) {}

  async start(input: Parameters<ExecutionEngine['start']>[0]): Promise<{ engineArn: string }> {
    try {
      const out = await this.sfnFor(input.tenantId).send(
        new StartExecutionCommand({
          stateMachineArn: `${input.stateMachineArn}:${input.environment}`,
          name: input.executionId,
          input: JSON.stringify(input.state),
        }),
      );
      return { engineArn: out.executionArn ?? executionArnOf(input.stateMachineArn, input.executionId) };
    } catch (error) {
      // A retried start of the same execution: it is already running under this name.
      if (error instanceof ExecutionAlreadyExists)
        return { engineArn: executionArnOf(input.stateMachineArn, input.executionId) };
      throw error;
    }
  }

  async stop(input: Parameters<ExecutionEngine['stop']>[0]): Promise<void> {
    try {
      await this.sfnFor(input.tenantId).send(
        new StopExecutionCommand({ executionArn: input.engineArn, error: input.error, cause: input.cause }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }

  async redrive(input: Parameters<ExecutionEngine['redrive']>[0]): Promise<void> {
    try {
      await this.sfnFor(input.tenantId).send(
        new RedriveExecutionCommand({
          executionArn: input.engineArn,
          // One token per redrive: a retried call for the same redrive is answered, not run twice.
          clientToken: `${input.executionId}-redrive-${input.redriveCount}`,
        }),
      );
    } catch (error) {
      if (error instanceof ExecutionNotRedrivable || error instanceof ExecutionDoesNotExist) {
        throw new ConflictError(`Step Functions cannot redrive this execution: ${error.message}`);
      }
      // The account's running executions are at their limit: worth a retry, not a 500.
      if (error instanceof ExecutionLimitExceeded) {
        throw new TransientError('Step Functions runs as many executions as it may; retry shortly.');
      }
      throw error;
    }
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    await this.guard(() =>
      this.own().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await this.guard(() => this.own().send(new SendTaskFailureCommand({ taskToken, error, cause })));
  }

  private async guard(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (
        error instanceof TaskTimedOut ||
        error instanceof TaskDoesNotExist ||
        error instanceof InvalidToken
      ) {
        throw new ConflictError('The execution is no longer waiting for this approval.');
      }
      throw error;
    }
  }
}
