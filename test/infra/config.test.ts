import { RemovalPolicy } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { LEASE_MS } from '#adapters/dynamo/lease.ts';
import { loadStageConfig, StageConfigError, stageConfigFromContext } from '../../lib/config.ts';

const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string) => values[key] });
const PROD_URLS = { callbackUrls: 'https://app.example.com/cb', logoutUrls: 'https://app.example.com/' };

describe('stage config', () => {
  it('defaults to dev when no stage is given', () => {
    expect(stageConfigFromContext(context({})).stage).toBe('dev');
  });

  it('rejects an unknown stage, naming it and the valid ones', () => {
    expect(() => loadStageConfig('qa')).toThrow(
      new StageConfigError('Unknown stage "qa": use one of dev, prod, e.g. npx cdk synth -c stage=dev'),
    );
  });

  it('rejects an empty stage instead of falling back to dev', () => {
    expect(() => stageConfigFromContext(context({ stage: '' }))).toThrow(/Unknown stage ""/);
  });

  it.each([
    { stage: 'dev', removal: RemovalPolicy.DESTROY, protection: false, mfa: 'OPTIONAL' },
    { stage: 'prod', removal: RemovalPolicy.RETAIN, protection: true, mfa: 'REQUIRED' },
  ])('gives $stage removal $removal, deletion protection $protection, MFA $mfa', (expected) => {
    expect(loadStageConfig(expected.stage, PROD_URLS)).toMatchObject({
      removalPolicy: expected.removal,
      deletionProtection: expected.protection,
      mfa: expected.mfa,
    });
  });

  it('is deeply frozen', () => {
    const config = loadStageConfig('dev');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.callbackUrls)).toBe(true);
    expect(Object.isFrozen(config.apiThrottle)).toBe(true);
  });

  it('splits comma-separated list overrides from the command line', () => {
    const config = stageConfigFromContext(
      context({
        stage: 'prod',
        callbackUrls: 'https://app.example.com/cb, https://admin.example.com/cb',
        logoutUrls: 'https://app.example.com/',
      }),
    );
    expect(config.callbackUrls).toEqual(['https://app.example.com/cb', 'https://admin.example.com/cb']);
  });

  it('rejects a non-https callback URL outside localhost', () => {
    expect(() => loadStageConfig('prod', { callbackUrls: 'http://app.example.com/cb' })).toThrow(
      /callbackUrls: "http:\/\/app.example.com\/cb" must use https/,
    );
  });

  it('rejects a wildcard CORS origin in prod', () => {
    expect(() => loadStageConfig('prod', { ...PROD_URLS, corsAllowedOrigins: '*' })).toThrow(
      /"\*" is not allowed in prod/,
    );
  });

  it('rejects an origin with a path, suggesting the bare origin', () => {
    expect(() => loadStageConfig('dev', { corsAllowedOrigins: 'https://app.example.com/' })).toThrow(
      /did you mean "https:\/\/app.example.com"/,
    );
  });

  it('rejects a domain prefix Cognito would refuse', () => {
    expect(() => loadStageConfig('dev', { hostedLoginDomainPrefix: 'my-cognito-login' })).toThrow(
      /hostedLoginDomainPrefix: received "my-cognito-login"/,
    );
  });

  it('reports every invalid override in one error', () => {
    expect(() => loadStageConfig('dev', { alarmEmail: 'nope', logoutUrls: 'ftp://x' })).toThrow(
      /logoutUrls: "ftp:\/\/x" must use https.*alarmEmail: received "nope"/,
    );
  });

  it('sets the alarm e-mail only when given', () => {
    expect(loadStageConfig('prod', PROD_URLS).alarmEmail).toBeUndefined();
    expect(loadStageConfig('prod', { ...PROD_URLS, alarmEmail: 'ops@example.com' }).alarmEmail).toBe(
      'ops@example.com',
    );
  });

  it('takes the notification sender from notificationsFromEmail, else the Cognito SES sender, and checks it', () => {
    expect(loadStageConfig('dev').notificationsFromEmail).toBeUndefined();
    expect(
      loadStageConfig('dev', { notificationsFromEmail: 'notify@example.com' }).notificationsFromEmail,
    ).toBe('notify@example.com');
    expect(
      loadStageConfig('dev', { sesFromEmail: 'no-reply@example.com', sesRegion: 'eu-west-1' })
        .notificationsFromEmail,
    ).toBe('no-reply@example.com');
    expect(() => loadStageConfig('dev', { notificationsFromEmail: 'nope' })).toThrow(
      /notificationsFromEmail: received "nope"/,
    );
  });

  describe('prod sign-in URLs', () => {
    it('fails a prod synth without callback or logout URLs, naming both settings', () => {
      const error = (() => {
        try {
          stageConfigFromContext(context({ stage: 'prod' }));
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(StageConfigError);
      expect(String(error)).toMatch(/callbackUrls: prod has no default.*-c callbackUrls=https:\/\//);
      expect(String(error)).toMatch(/logoutUrls: prod has no default/);
    });

    it.each(['http://localhost:8765/callback', 'http://127.0.0.1:3000/cb', 'http://[::1]/cb'])(
      'refuses the loopback URL %s in prod',
      (url) => {
        expect(() => loadStageConfig('prod', { ...PROD_URLS, callbackUrls: url })).toThrow(
          /callbackUrls: ".*" is a localhost URL, which prod must not ship/,
        );
        expect(() => loadStageConfig('prod', { ...PROD_URLS, logoutUrls: url })).toThrow(
          /logoutUrls: ".*" is a localhost URL/,
        );
      },
    );

    it('still accepts localhost URLs in dev', () => {
      expect(loadStageConfig('dev').callbackUrls).toContain('http://localhost:8765/callback');
    });

    it('keeps the configured https URLs in prod', () => {
      expect(loadStageConfig('prod', PROD_URLS)).toMatchObject({
        callbackUrls: ['https://app.example.com/cb'],
        logoutUrls: ['https://app.example.com/'],
      });
    });
  });
});

describe('the app-client lease (functions/adapters/dynamo/lease.ts)', () => {
  it.each(['dev', 'prod'])(
    'outlasts the %s API function, so it never lapses under a holder still running',
    (stage) => {
      const timeout = loadStageConfig(stage, PROD_URLS).apiFunction.timeout.toMilliseconds();
      expect(timeout).toBeLessThan(LEASE_MS);
    },
  );
});
