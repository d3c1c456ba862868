import {
  ConflictException,
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DeleteStateMachineVersionCommand,
  DescribeStateMachineAliasCommand,
  ListStateMachineAliasesCommand,
  type ListStateMachineAliasesCommandOutput,
  ListStateMachineVersionsCommand,
  type ListStateMachineVersionsCommandOutput,
  ResourceNotFound,
  type SFNClient,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import type { PublishedVersion, WorkflowEngine } from '#core/versioning/engine.ts';
import type { Environment } from '#core/versioning/model.ts';
import { logger } from '#shared/observability.ts';
import { stateMachineName, TENANT_TAG, WORKFLOW_TAG } from '#shared/resource-names.ts';

/**
 * Published versions kept besides those an alias points to. Step Functions allows 1,000 versions
 * per state machine; older unaliased ones are deleted, and promoting one publishes its ASL again.
 */
export const KEEP_RECENT_VERSIONS = 10;

/** Settings the stack gives the engine adapter. */
export interface SfnEngineSettings {
  /** Prefix of every state machine name (`meridian-<stage>`), which IAM scopes permissions by. */
  readonly namePrefix: string;
  /** The execution role every workflow state machine runs as (PassRole is scoped to it). */
  readonly roleArn: string;
  /** Log group ARN (with `:*`) for execution logs. */
  readonly logGroupArn: string;
  /**
   * Whether a failed delete throws (offboarding: its phase must not count a machine left behind)
   * rather than being logged (deleting a workflow, whose record is already gone).
   * @default false
   */
  readonly strictRemove?: boolean;
}

/** The Step Functions client that acts for one tenant (on AWS, on that tenant's fenced credentials). */
export type SfnFor = (tenantId: string) => SFNClient;

/**
 * Step Functions as the {@link WorkflowEngine}: one Standard state machine per workflow, named from
 * tenant and workflow ids and tagged with the tenant; each workflow version is a published Step
 * Functions version; environments are aliases, so promotion is an alias move. Every call goes
 * through the client of the tenant it names, which IAM fences to that tenant's machines.
 */
export class SfnEngine implements WorkflowEngine {
  constructor(
    private readonly sfnFor: SfnFor,
    private readonly settings: SfnEngineSettings,
  ) {}

  /** The state machine's name: at most 80 characters (17-character ids keep it well under). */
  name(tenantId: string, workflowId: string): string {
    return stateMachineName(this.settings.namePrefix, tenantId, workflowId);
  }

  async publish(input: {
    tenantId: string;
    workflowId: string;
    version: number;
    asl: string;
    stateMachineArn?: string;
  }): Promise<PublishedVersion> {
    const description = `Meridian workflow ${input.workflowId} version ${input.version}`;
    const client = this.sfnFor(input.tenantId);
    if (!input.stateMachineArn) {
      try {
        const out = await client.send(
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
              { key: TENANT_TAG, value: input.tenantId },
              { key: WORKFLOW_TAG, value: input.workflowId },
            ],
          }),
        );
        if (!out.stateMachineArn || !out.stateMachineVersionArn)
          throw new Error('Step Functions returned no ARN');
        // A new machine has one version: nothing to prune.
        return { stateMachineArn: out.stateMachineArn, versionArn: out.stateMachineVersionArn };
      } catch (error) {
        // A retried first version after a partial failure: the machine exists; update it instead.
        if (!(error instanceof StateMachineAlreadyExists)) throw error;
        return this.update(
          client,
          await this.arnOf(input.tenantId, input.workflowId),
          input.asl,
          description,
        );
      }
    }
    const published = await this.update(client, input.stateMachineArn, input.asl, description);
    await this.prune(input.tenantId, input.stateMachineArn);
    return published;
  }

  /**
   * The ARN of this workflow's machine, built from its name rather than read from an error's text: the
   * partition and account are the workflow role's (state machines and their role share both).
   */
  private async arnOf(tenantId: string, workflowId: string): Promise<string> {
    const [, partition, , , account] = this.settings.roleArn.split(':');
    const region = await this.sfnFor(tenantId).config.region();
    return `arn:${partition}:states:${region}:${account}:stateMachine:${this.name(tenantId, workflowId)}`;
  }

  private async update(
    client: SFNClient,
    stateMachineArn: string,
    asl: string,
    description: string,
  ): Promise<PublishedVersion> {
    const out = await client.send(
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
    asl?: string;
  }): Promise<void> {
    const client = this.sfnFor(input.tenantId);
    try {
      await this.pointAlias(client, input.stateMachineArn, input.environment, input.versionArn);
    } catch (error) {
      if (!(error instanceof ResourceNotFound) || !input.asl) throw error;
      // The version was retired by pruning: publish its definition again and point the alias there.
      const again = await this.update(
        client,
        input.stateMachineArn,
        input.asl,
        `Meridian workflow ${input.workflowId}, ${input.versionArn.split(':').pop()} published again`,
      );
      await this.pointAlias(client, input.stateMachineArn, input.environment, again.versionArn);
    }
    await this.prune(input.tenantId, input.stateMachineArn);
  }

  private async pointAlias(
    client: SFNClient,
    stateMachineArn: string,
    environment: Environment,
    versionArn: string,
  ): Promise<void> {
    const routingConfiguration = [{ stateMachineVersionArn: versionArn, weight: 100 }];
    const aliasArn = `${stateMachineArn}:${environment}`;
    try {
      await client.send(
        new UpdateStateMachineAliasCommand({ stateMachineAliasArn: aliasArn, routingConfiguration }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFound)) throw error;
      try {
        await client.send(new CreateStateMachineAliasCommand({ name: environment, routingConfiguration }));
      } catch (inner) {
        // Created concurrently by another promotion: update it to the version asked for.
        if (!(inner instanceof ConflictException)) throw inner;
        await client.send(
          new UpdateStateMachineAliasCommand({ stateMachineAliasArn: aliasArn, routingConfiguration }),
        );
      }
    }
  }

  /**
   * Deletes published versions that no alias points to, except the newest
   * {@link KEEP_RECENT_VERSIONS}. Housekeeping: a failure is logged, never fails the publish or
   * promotion that triggered it (the next one tries again).
   */
  async prune(tenantId: string, stateMachineArn: string): Promise<string[]> {
    const client = this.sfnFor(tenantId);
    const deleted: string[] = [];
    try {
      const versions: string[] = [];
      let next: string | undefined;
      do {
        const page: ListStateMachineVersionsCommandOutput = await client.send(
          new ListStateMachineVersionsCommand({ stateMachineArn, nextToken: next }),
        );
        for (const v of page.stateMachineVersions ?? []) {
          if (v.stateMachineVersionArn) versions.push(v.stateMachineVersionArn);
        }
        next = page.nextToken;
      } while (next);
      if (versions.length <= KEEP_RECENT_VERSIONS) return deleted;

      const aliased = new Set<string>();
      next = undefined;
      do {
        const page: ListStateMachineAliasesCommandOutput = await client.send(
          new ListStateMachineAliasesCommand({ stateMachineArn, nextToken: next }),
        );
        for (const alias of page.stateMachineAliases ?? []) {
          const described = await client.send(
            new DescribeStateMachineAliasCommand({ stateMachineAliasArn: alias.stateMachineAliasArn }),
          );
          for (const route of described.routingConfiguration ?? [])
            aliased.add(route.stateMachineVersionArn ?? '');
        }
        next = page.nextToken;
      } while (next);

      // Newest first by version number, whatever order the service lists them in.
      const byNumber = (arn: string): number => Number(arn.split(':').pop());
      const candidates = versions.sort((a, b) => byNumber(b) - byNumber(a)).slice(KEEP_RECENT_VERSIONS);
      for (const versionArn of candidates) {
        if (aliased.has(versionArn)) continue;
        try {
          await client.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: versionArn }));
          deleted.push(versionArn);
        } catch (error) {
          // An alias moved onto it meanwhile: keep it.
          if (!(error instanceof ConflictException)) throw error;
        }
      }
    } catch (error) {
      logger.warn('Pruning state machine versions failed; the next publish or promotion retries', {
        stateMachineArn,
        error: error instanceof Error ? error.name : String(error),
      });
    }
    return deleted;
  }

  async remove(input: { tenantId: string; stateMachineArn: string }): Promise<void> {
    try {
      // Deleting a state machine deletes its versions and aliases too.
      await this.sfnFor(input.tenantId).send(
        new DeleteStateMachineCommand({ stateMachineArn: input.stateMachineArn }),
      );
    } catch (error) {
      if (error instanceof StateMachineDoesNotExist) return;
      if (this.settings.strictRemove) throw error;
      // The workflow record is already gone; an idle machine costs nothing and README's clean-up
      // section says how to find leftovers. Answering 500 for a done delete would mislead.
      logger.error('Deleting the state machine failed; it is left behind', {
        stateMachineArn: input.stateMachineArn,
        error: error instanceof Error ? error.name : String(error),
      });
    }
  }
}
