import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
// cdk-nag flattens CloudFormation references this way when it names an IAM5 finding; reusing its own
// function keeps our acknowledgement ids identical to the findings (cdk-nag is pinned exactly).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/**
 * The rule packs every Meridian app is checked against. `bin/app.ts` registers them as validation
 * plugins (findings fail `cdk synth`); the infra tests run the same packs with `validateScope`.
 */
export function compliancePacks(scope?: IConstruct): NagPack[] {
  return [new AwsSolutionsChecks(scope), new ServerlessChecks(scope)];
}

/**
 * Acknowledges the `AwsSolutions-IAM5` finding for one wildcard resource on `scope`. cdk-nag 3 has no
 * prefix matching, so each wildcard is acknowledged by its exact finding id, computed from the same
 * token the policy statement uses rather than copied from a generated logical id.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flattened = flattenCfnReference(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattened}]`, reason });
}

/** Node metadata type under which {@link acknowledgeResourceStar} records the actions it covers. */
export const RESOURCE_STAR_ACTIONS_METADATA = 'meridian:resource-star-actions';

const starReasons = new WeakMap<IConstruct, string[]>();

/**
 * Acknowledges `"Resource": "*"` on `role` for exactly `actions` (actions that support no
 * resource-level permission), with the reason. cdk-nag has one finding id for every `*` resource of
 * a role, so the actions are recorded on the node too: test/infra/iam-fence.test.ts fails when a
 * `*` statement of the role allows any action not acknowledged here.
 */
export function acknowledgeResourceStar(role: IConstruct, actions: readonly string[], reason: string): void {
  const reasons = starReasons.get(role) ?? [];
  reasons.push(`${actions.join(', ')}: ${reason}`);
  starReasons.set(role, reasons);
  role.node.addMetadata(RESOURCE_STAR_ACTIONS_METADATA, [...actions]);
  Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: reasons.join(' ') });
}

/** The actions acknowledged on `role` with {@link acknowledgeResourceStar}. */
export function acknowledgedStarActions(role: IConstruct): string[] {
  return role.node.metadata
    .filter((entry) => entry.type === RESOURCE_STAR_ACTIONS_METADATA)
    .flatMap((entry) => entry.data as string[]);
}
