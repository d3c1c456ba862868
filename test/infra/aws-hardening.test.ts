import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadStageConfig, StageConfigError } from '../../lib/config.ts';
import { logicalId, nagFindings, resource, synthStage } from '../helpers/synth.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

describe.each(['dev', 'prod'] as const)('AWS deploy checks in %s', (stage) => {
  const { stack, template, config } = synthStage(stage);
  const topicId = logicalId(stack, stack.telemetry.alarmTopic);
  const sourceAccount = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } };

  it("lets CloudWatch publish to the alarm topic, from this account only (the topic policy replaces SNS's default)", () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: sourceAccount,
          },
        ]),
      },
    });
  });

  it("lets CloudWatch use the alarm topic's key, from this account only", () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: sourceAccount,
          }),
        ]),
      },
    });
  });

  it('builds every ARN from the current partition', () => {
    expect(JSON.stringify(template.toJSON())).not.toMatch(/arn:aws[:-]/);
  });

  it('caps the step runner with reserved concurrency from the stage config (a bulkhead)', () => {
    const reserved = config.stepRunnerFunction.reservedConcurrency;
    expect(reserved).toBeGreaterThan(0);
    expect(
      resource(template, logicalId(stack, stack.flows.stepRunner.function)).Properties
        .ReservedConcurrentExecutions,
    ).toBe(reserved);
    // The API and the authorizer draw on the unreserved pool that the cap leaves them.
    for (const fn of [stack.api.apiFunction, stack.api.authorizerFunction]) {
      expect(resource(template, logicalId(stack, fn.function)).Properties).not.toHaveProperty(
        'ReservedConcurrentExecutions',
      );
    }
  });

  it("sends Cognito e-mail with Cognito's own sender unless SES is configured", () => {
    const pool = resource(template, logicalId(stack, stack.identity.userPool));
    expect(JSON.stringify(pool.Properties.EmailConfiguration ?? {})).not.toContain('DEVELOPER');
  });

  it('passes cfn-lint with no error and no unacknowledged warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-cfn-'));
    try {
      const file = join(dir, `${stack.stackName}.template.json`);
      writeFileSync(file, JSON.stringify(template.toJSON()));
      let output = '';
      try {
        execFileSync('cfn-lint', ['--config-file', join(ROOT, '.cfnlintrc.yaml'), file], {
          encoding: 'utf8',
        });
      } catch (error) {
        output = String((error as { stdout?: string }).stdout ?? error);
      }
      expect(output).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('optional SES e-mail for Cognito', () => {
  it('sends through the configured SES identity', () => {
    const { app, stack, template } = synthStage('dev', {
      sesFromEmail: 'no-reply@example.com',
      sesRegion: 'eu-west-1',
    });
    expect(nagFindings(app)).toEqual([]);
    const pool = resource(template, logicalId(stack, stack.identity.userPool));
    expect(pool.Properties.EmailConfiguration).toMatchObject({
      EmailSendingAccount: 'DEVELOPER',
      From: 'no-reply@example.com',
    });
    expect(JSON.stringify(pool.Properties.EmailConfiguration)).toContain(':ses:eu-west-1:');
  });

  it('needs the SES region and a valid address, and names the setting', () => {
    expect(() => loadStageConfig('dev', { sesFromEmail: 'no-reply@example.com' })).toThrow(/sesRegion/);
    expect(() => loadStageConfig('dev', { sesFromEmail: 'not-an-address', sesRegion: 'eu-west-1' })).toThrow(
      /sesFromEmail/,
    );
    expect(() => loadStageConfig('dev', { sesRegion: 'eu-west-1' })).toThrow(StageConfigError);
  });
});

/** Prod has no default sign-in URLs (lib/config.ts): every prod config names them. */
const PROD_URLS = { callbackUrls: 'https://app.example.com/cb', logoutUrls: 'https://app.example.com/' };

describe('step runner bulkhead setting', () => {
  it('takes an override and refuses a value that is not a whole number of at least 1', () => {
    expect(
      loadStageConfig('prod', { ...PROD_URLS, stepRunnerReservedConcurrency: '50' }).stepRunnerFunction
        .reservedConcurrency,
    ).toBe(50);
    expect(() => loadStageConfig('prod', { ...PROD_URLS, stepRunnerReservedConcurrency: '0' })).toThrow(
      /stepRunnerFunction\.reservedConcurrency/,
    );
    expect(() => loadStageConfig('prod', { ...PROD_URLS, stepRunnerReservedConcurrency: 'many' })).toThrow(
      /stepRunnerReservedConcurrency/,
    );
  });
});

describe('lib/', () => {
  it('writes no partition literal into an ARN', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/arn:aws[:-]/.test(readFileSync(path, 'utf8'))) offenders.push(path);
      }
    };
    walk(join(ROOT, 'lib'));
    expect(offenders).toEqual([]);
  });
});
