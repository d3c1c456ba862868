import { describe, expect, it } from 'vitest';
import { credentialsOf, parseArgs, UsageError } from '../../../bin/smoke.ts';

describe('smoke command line', () => {
  it('reads --flag value and --flag=value', () => {
    expect(parseArgs(['--api', 'https://x.example', '--client-id=abc'], {})).toEqual({
      api: 'https://x.example',
      'client-id': 'abc',
    });
  });

  it('takes what the command line leaves out from the environment, the command line winning', () => {
    const options = parseArgs(['--api', 'https://flag.example'], {
      MERIDIAN_API_URL: 'https://env.example',
      MERIDIAN_USER_POOL_ID: 'eu-west-1_abc',
      MERIDIAN_PASSWORD: 'pw',
    });
    expect(options).toEqual({ api: 'https://flag.example', 'user-pool-id': 'eu-west-1_abc', password: 'pw' });
  });

  it.each([
    [['--demo', 'x.json'], /--api <url> is required/],
    [['--api', 'u', '--bogus', '1'], /Unknown flag --bogus/],
    [['--api'], /--api needs a value/],
    [['api'], /Unexpected argument api/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(UsageError);
    expect(() => parseArgs(argv, {})).toThrow(message);
  });

  it('uses an API key or token as given, the approver too', async () => {
    expect(await credentialsOf({ api: 'u', 'api-key': 'mk_a', 'approver-token': 't2' })).toEqual({
      requester: { apiKey: 'mk_a' },
      approver: { token: 't2' },
    });
  });

  it('asks for a credential when none is given, and for a client id to sign in', async () => {
    await expect(credentialsOf({ api: 'u' })).rejects.toThrow(/No credential/);
    await expect(credentialsOf({ api: 'u', username: 'a', password: 'b' })).rejects.toThrow(/--client-id/);
  });
});
