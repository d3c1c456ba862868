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
