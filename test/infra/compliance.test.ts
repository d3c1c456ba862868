import { rmSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { compliancePacks } from '../../lib/compliance.ts';
import { nagAcknowledgements, nagFindings, synthStage } from '../helpers/synth.ts';

// prod is checked with an alarm e-mail so the optional subscription is covered too.
describe.each<{ stage: 'dev' | 'prod'; context: Record<string, string> }>([
  { stage: 'dev', context: {} },
  { stage: 'prod', context: { alarmEmail: 'ops@example.com' } },
])('cdk-nag in $stage', ({ stage, context }) => {
  const { app } = synthStage(stage, context);

  it('AwsSolutions and Serverless report no unacknowledged finding', () => {
    expect(nagFindings(app)).toEqual([]);
  });

  it('every acknowledgement names one rule and a specific reason', () => {
    const acknowledgements = nagAcknowledgements(app);
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) {
      expect(ack.id, ack.path).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[[^\]]+\])?$/);
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(60);
    }
  });
});

describe('cdk-nag in prod', () => {
  it('needs no MFA or feature-plan acknowledgement (both are on)', () => {
    const ids = nagAcknowledgements(synthStage('prod').app).map((ack) => ack.id);
    expect(ids).not.toContain('AwsSolutions-COG2');
    expect(ids).not.toContain('AwsSolutions-COG8');
  });
});

describe('compliance packs registered as validation plugins', () => {
  it('fail synth on an unacknowledged finding', () => {
    const app = new App();
    new Bucket(new Stack(app, 'Probe'), 'UnloggedBucket');
    Validations.of(app).addPlugins(...compliancePacks(app));
    try {
      expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
    } finally {
      rmSync(app.outdir, { recursive: true, force: true });
    }
  });
});
