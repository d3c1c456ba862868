import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROD_SIGN_IN_CONTEXT, synthStage } from '../helpers/synth.ts';

/** A URL in the template: a literal, or the console's CloudFront URL (`Fn::Join` of https:// and the domain). */
type TemplateUrl = string | { 'Fn::Join': [string, unknown[]] };
type ClientProps = { CallbackURLs: TemplateUrl[]; LogoutURLs: TemplateUrl[] };

/** The literal prefix of a template URL (for a join: its first literal part). */
function prefixOf(url: TemplateUrl): string {
  if (typeof url === 'string') return url;
  const [first] = url['Fn::Join'][1];
  return typeof first === 'string' ? first : '';
}

function appClient(stage: 'dev' | 'prod', context: Record<string, string> = {}): ClientProps {
  const clients = synthStage(stage, context).template.findResources('AWS::Cognito::UserPoolClient');
  const [client] = Object.values(clients) as { Properties: ClientProps }[];
  if (!client) throw new Error(`no app client in ${stage}`);
  return client.Properties;
}

describe('prod sign-in URLs', () => {
  it('the prod app client ships no http or localhost callback or logout URL', () => {
    const { CallbackURLs, LogoutURLs } = appClient('prod');
    // The configured URL, then the console's own CloudFront URL (lib/constructs/console.ts).
    expect(CallbackURLs[0]).toBe(PROD_SIGN_IN_CONTEXT.callbackUrls);
    expect(LogoutURLs[0]).toBe(PROD_SIGN_IN_CONTEXT.logoutUrls);
    expect(CallbackURLs).toHaveLength(2);
    expect(LogoutURLs).toHaveLength(2);
    expect(JSON.stringify(CallbackURLs[1])).toMatch(/ConsoleDistribution.*\/console\//);
    for (const url of [...CallbackURLs, ...LogoutURLs]) {
      expect(prefixOf(url)).toMatch(/^https:\/\//);
      expect(prefixOf(url)).not.toMatch(/localhost|127\.0\.0\.1|\[::1\]/);
    }
  });

  it('a prod synth without configured URLs fails, naming the setting', () => {
    expect(() => synthStage('prod', { callbackUrls: '', logoutUrls: '' })).toThrow(
      /callbackUrls: prod has no default/,
    );
  });

  it('the synth script supplies the same example prod URLs as the tests', () => {
    const scripts = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts.synth).toContain(`-c callbackUrls=${PROD_SIGN_IN_CONTEXT.callbackUrls}`);
    expect(scripts.synth).toContain(`-c logoutUrls=${PROD_SIGN_IN_CONTEXT.logoutUrls}`);
  });

  it('dev keeps its localhost URLs for local front ends', () => {
    expect(appClient('dev').CallbackURLs).toContain('http://localhost:8765/callback');
  });
});
