import { describe, expect, it } from 'vitest';
import { PERMISSIONS as CONSOLE_PERMISSIONS } from '../../console/src/permissions.ts';
import { PERMISSIONS } from '../../functions/core/access/permissions.ts';

describe('the console’s permission list', () => {
  it('is the API’s, in the same order, so role and key forms offer every permission', () => {
    // Act
    const offered = [...CONSOLE_PERMISSIONS];
    // Assess
    expect(offered).toEqual([...PERMISSIONS]);
  });
});
