import type { Environment } from './model.ts';

/** Where a published workflow version lives in the engine. */
export interface PublishedVersion {
  readonly stateMachineArn: string;
  readonly versionArn: string;
}

/**
 * The workflow engine (Step Functions on AWS; aws-local-stepfunctions in the local platform) as the
 * workflow use cases see it: the same compiled ASL is published to both.
 */
export interface WorkflowEngine {
  /** Creates or updates the workflow's state machine with `asl` and publishes it as a new version. */
  publish(input: {
    readonly tenantId: string;
    readonly workflowId: string;
    readonly version: number;
    readonly asl: string;
    readonly stateMachineArn?: string;
  }): Promise<PublishedVersion>;
  /**
   * Points the environment's alias at a published version. `asl` is that version's definition: an
   * engine that retires old versions publishes it again when the version is gone.
   */
  promote(input: {
    readonly tenantId: string;
    readonly workflowId: string;
    readonly stateMachineArn: string;
    readonly environment: Environment;
    readonly versionArn: string;
    readonly asl?: string;
  }): Promise<void>;
  /** Deletes the workflow's state machine with its versions and aliases; gone already is fine. */
  remove(input: { readonly tenantId: string; readonly stateMachineArn: string }): Promise<void>;
}
