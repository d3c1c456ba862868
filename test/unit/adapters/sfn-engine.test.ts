import { describe, expect, it } from 'vitest';
import { tenantOfStateMachine } from '#shared/resource-names.ts';

describe('tenantOfStateMachine', () => {
  const base =
    'arn:aws:states:us-east-1:123456789012:stateMachine:meridian-prod-tabcdefghijklmnop-wabcdefghijklmnop';

  it.each([
    ['the state machine', base],
    ['a version', `${base}:7`],
    ['an alias', `${base}:prod`],
    ['an execution', `${base.replace(':stateMachine:', ':execution:')}:x1`],
  ])('reads the tenant from %s', (_name, arn) => {
    expect(tenantOfStateMachine(arn)).toBe('tabcdefghijklmnop');
  });

  it.each([
    ['a machine Meridian does not own', 'arn:aws:states:us-east-1:123456789012:stateMachine:orders'],
    [
      'a name outside the machine segment',
      'arn:aws:states:us-east-1:stateMachine:x:meridian-prod-tabcdefghijklmnop-w',
    ],
    [
      'a machine named for an id that is not a tenant’s',
      'arn:aws:states:us-east-1:123456789012:stateMachine:meridian-prod-wabcdefghijklmnop-x',
    ],
    [
      'an ARN of another kind',
      'arn:aws:lambda:us-east-1:123456789012:function:meridian-prod-tabcdefghijklmnop-x',
    ],
  ])('finds no tenant in %s', (_name, arn) => {
    expect(tenantOfStateMachine(arn)).toBeUndefined();
  });
});
