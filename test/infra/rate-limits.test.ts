import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config.ts';
import { loadStageConfig, rateLimitEnvironment } from '../../lib/config.ts';
import { synthStage } from '../helpers/synth.ts';

describe.each(['dev', 'prod'] as const)('rate limits of the %s stage', (stage) => {
  const { template } = synthStage(stage);
  // Prod has no default sign-in URLs (lib/config.ts), so its config names example ones.
  const stageConfig = loadStageConfig(
    stage,
    stage === 'prod'
      ? { callbackUrls: 'https://app.example.com/cb', logoutUrls: 'https://app.example.com/' }
      : {},
  );
  const limits = stageConfig.rateLimits;

  it('reach the API function as the variables the runtime config reads', () => {
    // Act
    const env = rateLimitEnvironment(limits);
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'meridian-api', ...env }) },
    });
    const parsed = parseConfig({
      STAGE: stage,
      MERIDIAN_MODE: 'aws',
      TABLE_NAME: 'table',
      AUDIT_BUCKET_NAME: 'bucket',
      USER_POOL_ID: 'pool',
      USER_POOL_CLIENT_ID: 'client',
      ...env,
    });
    expect(parsed.RATE_LIMITS).toEqual(limits);
  });

  it('keep every tenant below the stage-wide throttle', () => {
    // Prepare
    const { apiThrottle } = stageConfig;
    // Assess
    for (const perWindow of Object.values(limits.tenant)) {
      expect(perWindow / limits.windowSeconds).toBeLessThanOrEqual(apiThrottle.rateLimit);
    }
  });
});
