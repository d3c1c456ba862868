import type { SecretBinding } from './secret-bindings.ts';

/** Kinds of versioned definitions a tenant builds with. */
export type DefinitionKind = 'agent' | 'tool' | 'workflow';

/** Environments a workflow version can be promoted to. */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Exact versions of agents and tools a workflow version was created against. */
export interface Pins {
  readonly agents: Readonly<Record<string, number>>;
  readonly tools: Readonly<Record<string, number>>;
}

/**
 * The current state of a definition: its latest version and, for workflows, the environments'
 * versions and what the live versions pin (so deleting a pinned agent or tool can be refused).
 */
export interface Head<D> {
  readonly id: string;
  readonly kind: DefinitionKind;
  readonly name: string;
  readonly latestVersion: number;
  readonly definition: D;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly createdBy: string;
  readonly updatedBy: string;
  /** Workflows: environment → version. */
  readonly environments?: Partial<Record<Environment, number>>;
  /** Workflows: union of the pins of the latest and every promoted version. */
  readonly livePins?: Pins;
  /** Workflows on AWS: the state machine that runs them. */
  readonly stateMachineArn?: string;
  /** Agents and tools: the secrets the latest version uses and who bound them. */
  readonly secretBindings?: readonly SecretBinding[];
}

/** One immutable version. */
export interface Version<D> {
  readonly id: string;
  readonly kind: DefinitionKind;
  readonly version: number;
  readonly definition: D;
  readonly createdAt: string;
  readonly createdBy: string;
  /** Workflows only. */
  readonly pins?: Pins;
  /** Workflows only: the compiled Amazon States Language, as JSON text. */
  readonly asl?: string;
  /** Workflows on AWS: the published Step Functions version. */
  readonly engineVersionArn?: string;
  /** Set by a rollback: the version this one copies. */
  readonly rolledBackFrom?: number;
  /** Agents and tools: the secrets this version uses and who bound them (saved it). */
  readonly secretBindings?: readonly SecretBinding[];
}
