/**
 * Large-output references (functions/core/executions/artifacts.ts): what is shaped like a marker,
 * and reading an artifact under the caller's tenant.
 */
import { describe, expect, it, vi } from 'vitest';
import { artifactMarker, looksLikeMarker, markedArtifact, readArtifact } from '#core/executions/artifacts.ts';

const REF = { key: 'executions/e1/big.json', uri: 's3://b/tenants/ta/executions/e1/big.json', size: 9 };

describe('looksLikeMarker', () => {
  it.each([
    [null, false],
    [[REF.uri, 'big'], false],
    ['big', false],
    [{ $ref: REF.uri }, false],
    [{ step: 'big' }, false],
    [{ $ref: 1, step: 'big' }, false],
    [{ $ref: REF.uri, step: 1 }, false],
    [{ $ref: REF.uri, step: 'big' }, true],
  ])('%j looks like a marker: %s', (value, expected) => {
    expect(looksLikeMarker(value)).toBe(expected);
  });
});

describe('markedArtifact and readArtifact', () => {
  it('makes the marker from the reference, and resolves only the matching step', () => {
    const marker = artifactMarker(REF, 'big');
    expect(marker).toEqual({ $ref: REF.uri, step: 'big', size: 9 });
    expect(markedArtifact(marker, [{ stepKey: 'other', outputRef: REF }])).toBeUndefined();
    expect(markedArtifact(null, [{ stepKey: 'big', outputRef: REF }])).toBeUndefined();
    expect(markedArtifact(marker, [{ stepKey: 'other' }, { stepKey: 'big', outputRef: REF }])).toBe(REF);
  });

  it('reads the key under the given tenant and parses it', async () => {
    const get = vi.fn(async () => '{"a":[1,2]}');
    const value = await readArtifact({ get, put: vi.fn() }, 'ta', REF);
    expect(value).toEqual({ a: [1, 2] });
    expect(get).toHaveBeenCalledWith('ta', REF.key);
  });
});
