import {
  ConflictException,
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  ResourceNotFound,
  type SFNClient,
  StateMachineAlreadyExists,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { ID_PATTERN } from '#core/ids.ts';
import type { PublishedVersion, WorkflowEngine } from '#core/versioning/engine.ts';
import type { Environment } from '#core/versioning/model.ts';

/** Settings the stack gives the engine adapter. */
export interface SfnEngineSettings {
  /** Prefix of every state machine name (`meridian-<stage>`), which IAM scopes permissions by. */
  readonly namePrefix: string;
  /** The execution role every workflow state machine runs as (PassRole is scoped to it). */
  readonly roleArn: string;
  /** Log group ARN (with `:*`) for execution logs. */
  readonly logGroupArn: string;
}

/**
 * Step Functions as the {@link WorkflowEngine}: one Standard state machine per workflow, named from
 * tenant and workflow ids and tagged with the tenant; each workflow version is a published Step
 * Functions version; environments are aliases, so promotion is an alias move.
 */
export class SfnEngine implements WorkflowEngine {
  constructor(
    private readonly client: SFNClient,
    private readonly settings: SfnEngineSettings,
  ) {}

  /** The state machine's name: at most 80 characters (17-character ids keep it well under). */
  name(tenantId: string, workflowId: string): string {
    return `${this.settings.namePrefix}-${tenantId}-${workflowId}`;
  }

  async publish(input: {
    tenantId: string;
    workflowId: string;
    version: number;
    asl: string;
    stateMachineArn?: string;
  }): Promise<PublishedVersion> {
    const description = `Meridian workflow ${input.workflowId} version ${input.version}`;
    if (!input.stateMachineArn) {
      try {
        const out = await this.client.send(
          new CreateStateMachineCommand({
            name: this.name(input.tenantId, input.workflowId),
            definition: input.asl,
            roleArn: this.settings.roleArn,
            type: 'STANDARD',
            publish: true,
            versionDescription: description,
            loggingConfiguration: {
              level: 'ERROR',
              includeExecutionData: false,
              destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: this.settings.logGroupArn } }],
            },
            tracingConfiguration: { enabled: true },
            tags: [
              { key: 'TenantId', value: input.tenantId },
              { key: 'WorkflowId', value: input.workflowId },
            ],
          }),
        );
        if (!out.stateMachineArn || !out.stateMachineVersionArn)
          throw new Error('Step Functions returned no ARN');
        return { stateMachineArn: out.stateMachineArn, versionArn: out.stateMachineVersionArn };
      } catch (error) {
        // A retried first version after a partial failure: the machine exists; update it instead.
        if (!(error instanceof StateMachineAlreadyExists)) throw error;
        const arn = error.message.match(/arn:[^'" ]+/)?.[0];
        if (!arn) throw error;
        return this.update(arn, input.asl, description);
      }
    }
    return this.update(input.stateMachineArn, input.asl, description);
  }

  private async update(stateMachineArn: string, asl: string, description: string): Promise<PublishedVersion> {
    const out = await this.client.send(
      new UpdateStateMachineCommand({
        stateMachineArn,
        definition: asl,
        publish: true,
        versionDescription: description,
      }),
    );
    if (!out.stateMachineVersionArn) throw new Error('Step Functions published no version');
    return { stateMachineArn, versionArn: out.stateMachineVersionArn };
  }

  async promote(input: {
    tenantId: string;
    workflowId: string;
    stateMachineArn: string;
    environment: Environment;
    versionArn: string;
  }): Promise<void> {
    const routingConfiguration = [{ stateMachineVersionArn: input.versionArn, weight: 100 }];
    const aliasArn = `${input.stateMachineArn}:${input.environment}`;
    try {
      await this.client.send(
        new UpdateStateMachineAliasCommand({ stateMachineAliasArn: aliasArn, routingConfiguration }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFound)) throw error;
      try {
        await this.client.send(
          new CreateStateMachineAliasCommand({ name: input.environment, routingConfiguration }),
        );
      } catch (inner) {
        // Created concurrently by another promotion: update it to the version asked for.
        if (!(inner instanceof ConflictException)) throw inner;
        await this.client.send(
          new UpdateStateMachineAliasCommand({ stateMachineAliasArn: aliasArn, routingConfiguration }),
        );
      }
    }
  }
}

/**
 * The tenant from a state machine ARN: machines are named `<prefix>-<tenantId>-<workflowId>`. A
 * version or alias ARN (`…:stateMachine:<name>:<qualifier>`) names the same machine.
 */
export function tenantOfStateMachine(stateMachineArn: string): string | undefined {
  const segments = stateMachineArn.split(':');
  const name = segments[segments.indexOf('stateMachine') + 1] ?? '';
  const parts = name.split('-');
  const tenantId = parts[parts.length - 2];
  return tenantId?.startsWith('t') && ID_PATTERN.test(tenantId) ? tenantId : undefined;
}
