import { describe, expect, it } from 'vitest';
import { toolUrlProblems } from '#core/catalog/model.ts';

// Where a URL may go is decided at run time against the tenant's platform allowlist (which a
// platform admin can change after the save), so save checks only the URL's form.
describe('toolUrlProblems: the URL form checked at save', () => {
  it.each([
    'https://[::7f00:1]/x',
    'https://[64:ff9b::a9fe:a9fe]/x',
    'https://169.254.169.254/latest',
    'http://10.1.2.3/',
    'http://localhost:8080/{{args.id}}',
  ])('accepts %s at save (the run-time guard refuses it unless allowlisted)', (url) => {
    expect(toolUrlProblems(url)).toEqual([]);
  });

  it.each([
    ['ftp://files.example.com/x', /must be https/],
    ['https://user:pw@api.example.com/', /must not carry credentials/],
    ['https://{{args.host}}/x', /not allowed in the scheme or host/],
  ])('refuses %s', (url, message) => {
    expect(toolUrlProblems(url)).toEqual([{ path: 'url', message: expect.stringMatching(message) }]);
  });
});
