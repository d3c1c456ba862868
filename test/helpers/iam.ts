import { runSimulation } from '@cloud-copilot/iam-simulate';

/** The account, region and partition the resolved templates pretend to live in. */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** The label of the made-up stream ARN of a table (`<table arn>/stream/<label>`). */
export const STREAM_LABEL = '2026-11-29T00:00:00.000';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** A policy document with every CloudFormation intrinsic replaced by a concrete value. */
export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly Record<string, unknown>[];
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Meridian',
};

/** The ARN (`Fn::GetAtt [id, Arn]`) or name (`Ref`) CloudFormation would give a resource, made up from its id. */
function attribute(resources: Resources, id: string, attr: 'Arn' | 'Ref'): string {
  const type = resources[id]?.Type;
  const name = id.toLowerCase();
  const region = `${REGION}:${ACCOUNT}`;
  const machineName = (resources[id]?.Properties as { StateMachineName?: unknown } | undefined)
    ?.StateMachineName;
  const arns: Record<string, string> = {
    'AWS::DynamoDB::Table': `arn:aws:dynamodb:${region}:table/${id}`,
    'AWS::KMS::Key': `arn:aws:kms:${region}:key/${id}`,
    'AWS::S3::Bucket': `arn:aws:s3:::${name}`,
    'AWS::IAM::Role': `arn:aws:iam::${ACCOUNT}:role/${id}`,
    'AWS::Lambda::Function': `arn:aws:lambda:${region}:function:${id}`,
    'AWS::Logs::LogGroup': `arn:aws:logs:${region}:log-group:${id}:*`,
    'AWS::SQS::Queue': `arn:aws:sqs:${region}:${id}`,
    'AWS::SNS::Topic': `arn:aws:sns:${region}:${id}`,
    'AWS::Cognito::UserPool': `arn:aws:cognito-idp:${region}:userpool/${REGION}_${id}`,
    'AWS::StepFunctions::StateMachine': `arn:aws:states:${region}:stateMachine:${machineName ?? id}`,
  };
  if (type === undefined) throw new Error(`No resource ${id} in the template`);
  if (attr === 'Arn') {
    const arn = arns[type];
    if (!arn) throw new Error(`No made-up ARN for ${type} (${id})`);
    return arn;
  }
  // These types' Ref is their ARN. A made-up name instead would not be an ARN, which the simulator
  // matches against any resource: a statement on it would seem to allow everything.
  if (type === 'AWS::SNS::Topic' || type === 'AWS::SQS::Queue' || type === 'AWS::StepFunctions::StateMachine')
    return arns[type] ?? name;
  if (type === 'AWS::Cognito::UserPool') return `${REGION}_${id}`;
  return name;
}

/** Replaces Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split and Fn::Sub (of pseudo parameters) with concrete values. */
export function resolve(value: unknown, resources: Resources): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [fn, arg] = first;
    if (fn === 'Ref') {
      const id = String(arg);
      return PSEUDO[id] ?? attribute(resources, id, 'Ref');
    }
    if (fn === 'Fn::GetAtt') {
      const [id, attr] = arg as [string, string];
      // A table's stream ARN: the table's, a stream label after it (any label will do offline).
      if (attr === 'StreamArn' && resources[id]?.Type === 'AWS::DynamoDB::Table')
        return `${attribute(resources, id, 'Arn')}/stream/${STREAM_LABEL}`;
      if (attr !== 'Arn') throw new Error(`Fn::GetAtt ${id}.${attr} is not resolved`);
      return attribute(resources, id, 'Arn');
    }
    if (fn === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return (resolve(parts, resources) as unknown[]).map(String).join(sep);
    }
    if (fn === 'Fn::Split') {
      const [sep, source] = arg as [string, unknown];
      return String(resolve(source, resources)).split(sep);
    }
    if (fn === 'Fn::Select') {
      const [index, list] = arg as [number, unknown];
      return (resolve(list, resources) as unknown[])[Number(index)];
    }
    if (fn === 'Fn::Sub' && typeof arg === 'string') {
      // Only pseudo parameters (the CDK bootstrap asset bucket's name uses them).
      return arg.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const value = PSEUDO[name];
        if (value === undefined) throw new Error(`Fn::Sub \${${name}} is not resolved`);
        return value;
      });
    }
    if (fn.startsWith('Fn::')) throw new Error(`${fn} is not resolved`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, resources)]));
}

/** Every identity policy attached to the role `roleId` (inline and `AWS::IAM::Policy`), resolved. */
export function rolePolicies(resources: Resources, roleId: string): PolicyDocument[] {
  const attached = Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties?.Roles as unknown[] | undefined)?.some(
          (role) => (role as { Ref?: string }).Ref === roleId,
        ),
    )
    .map((r) => r.Properties?.PolicyDocument);
  const inline = ((resources[roleId]?.Properties?.Policies as { PolicyDocument: unknown }[]) ?? []).map(
    (p) => p.PolicyDocument,
  );
  return [...attached, ...inline].map((doc) => resolve(doc, resources) as PolicyDocument);
}

/** One request to simulate. */
export interface SimRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  /**
   * The resource's own policy. KMS needs one (a key policy) before any identity policy counts: the
   * CDK default delegates to the account's IAM policies.
   */
  readonly resourcePolicy?: PolicyDocument;
}

/** The simulator's decision: `Allowed`, `ExplicitlyDenied` or `ImplicitlyDenied`. */
export async function decide(
  principal: string,
  policies: readonly PolicyDocument[],
  request: SimRequest,
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context ?? {},
      },
      identityPolicies: policies.map((policy, i) => ({ name: `policy${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `Simulation of ${request.action} on ${request.resource} failed: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult;
}
