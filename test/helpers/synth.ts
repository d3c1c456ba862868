import { readFileSync, rmSync } from 'node:fs';
import { App, CfnElement, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { compliancePacks } from '../../lib/compliance.ts';
import type { StageConfig, StageName } from '../../lib/config.ts';
import { addMeridianStack, type MeridianStack } from '../../lib/meridian-stack.ts';

/** One synthesized stage: the app, its stack, the stack's config and its template. */
export interface SynthesizedStage {
  /** The app, for tree-wide checks (cdk-nag). */
  readonly app: App;
  /** The stack, for logical ids of specific constructs. */
  readonly stack: MeridianStack;
  /** The configuration the stack was built from (expected values come from here). */
  readonly config: StageConfig;
  /** The synthesized CloudFormation template. */
  readonly template: Template;
}

const cache = new Map<string, SynthesizedStage>();

/**
 * Prod has no default sign-in URLs (lib/config.ts); tests synthesize it with the same example domain as
 * the `synth` script in package.json, unless a test passes its own.
 */
export const PROD_SIGN_IN_CONTEXT: Readonly<Record<string, string>> = {
  callbackUrls: 'https://app.example.com/auth/callback',
  logoutUrls: 'https://app.example.com/',
};

/**
 * The context the CLI passes from cdk.json (feature flags such as `@aws-cdk/aws-iam:minimizePolicies`
 * change the template), so tests see what `cdk synth` produces.
 */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  }
).context;

/**
 * Builds the app as `cdk synth` builds bin/app.ts for `stage` (cdk.json context plus any extra), synthesizes it and
 * returns the template. Bundling is skipped (`aws:cdk:bundling-stacks: []` makes NodejsFunction stage
 * a placeholder instead of running esbuild), and results are cached per module, so each test file
 * synthesizes a stage once. The compliance packs are not registered here: findings would fail synth;
 * {@link nagFindings} runs them on the finished tree instead.
 */
export function synthStage(
  stage: StageName,
  context: Readonly<Record<string, string>> = {},
): SynthesizedStage {
  const key = JSON.stringify([stage, context]);
  const cached = cache.get(key);
  if (cached) return cached;
  const app = new App({
    context: {
      ...CDK_JSON_CONTEXT,
      ...(stage === 'prod' ? PROD_SIGN_IN_CONTEXT : {}),
      ...context,
      stage,
      'aws:cdk:bundling-stacks': [],
    },
  });
  const stack = addMeridianStack(app);
  const synthesized = { app, stack, config: stack.config, template: Template.fromStack(stack) };
  // The template is in memory now; don't leave a cloud assembly in the temp folder per synth.
  rmSync(app.outdir, { recursive: true, force: true });
  cache.set(key, synthesized);
  return synthesized;
}

/** Logical id of a construct (or of its default CloudFormation resource) in its stack. */
export function logicalId(stack: MeridianStack, construct: IConstruct): string {
  const element = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(element instanceof CfnElement)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource of its own`);
  }
  return stack.getLogicalId(element);
}

/** The template's resource with `id`, or a failing error naming it. */
export function resource(
  template: Template,
  id: string,
): { Type: string; Properties: Record<string, unknown> } {
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const found = resources[id];
  if (!found) throw new Error(`No resource ${id} in the template`);
  return found;
}

/** One IAM policy statement as synthesized (single values are not wrapped in arrays). */
export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of every `AWS::IAM::Policy` attached to the role with logical id `roleId`. */
export function roleStatements(template: Template, roleId: string): PolicyStatementJson[] {
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
  ) as { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }[];
  return policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** A statement's actions as an array. */
export function actionsOf(statement: PolicyStatementJson): string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

/**
 * Runs Meridian's cdk-nag packs on a synthesized app and returns every unacknowledged finding as
 * `rule at path: description`, so a failing assertion lists exactly what to fix or acknowledge.
 */
export function nagFindings(app: App): string[] {
  return compliancePacks().flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.flatMap((violation) =>
        violation.violatingResources.map(
          (where) => `${violation.ruleName} at ${where.constructPath}: ${violation.description}`,
        ),
      ),
  );
}

/** One `Validations.acknowledge` call found in the tree. */
export interface Acknowledgement {
  /** Path of the construct it is attached to. */
  readonly path: string;
  /** The acknowledged rule id, without CDK's `Annotation::` prefix. */
  readonly id: string;
  /** The reason given. */
  readonly reason: string;
}

/** Every cdk-nag acknowledgement (AwsSolutions and Serverless rules) recorded in the app's tree. */
export function nagAcknowledgements(app: App): Acknowledgement[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason }))
      .filter((ack) => /^(AwsSolutions|Serverless)-/.test(ack.id)),
  );
}
