import type { ArtifactStore } from './ports.ts';

/**
 * Large step outputs. The platform keeps the only trustworthy reference on the step record it writes
 * (`outputRef`, a key relative to the tenant's prefix); the `{"$ref", "step"}` marker that travels
 * in the workflow state is just a pointer to that record. Data shaped like a reference (a step input,
 * a tool response, a model reply) is never resolved: a marker resolves only when the caller's own
 * execution has a step record under the marker's step key that carries an `outputRef` for the same
 * URI, and the object is read under the caller's tenant prefix, so a forged `s3://…/tenants/<other>/…`
 * reaches nothing.
 */

/** Where the platform stored a step's output: a key under `tenants/<tenantId>/`, and its size. */
export interface ArtifactRef {
  readonly key: string;
  readonly uri: string;
  readonly size: number;
}

/** The marker a large output travels as in the workflow state (Choice conditions cannot see inside). */
export interface ArtifactMarker {
  readonly $ref: string;
  readonly step: string;
  readonly size: number;
}

export function artifactMarker(ref: ArtifactRef, stepKey: string): ArtifactMarker {
  return { $ref: ref.uri, step: stepKey, size: ref.size };
}

/** Whether `value` is shaped like a marker; only {@link resolveMarker} decides whether it is one. */
export function looksLikeMarker(value: unknown): value is ArtifactMarker {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.$ref === 'string' && typeof candidate.step === 'string';
}

/** The part of a step record the resolution reads. */
export interface StoredStep {
  readonly stepKey: string;
  readonly outputRef?: ArtifactRef;
}

/**
 * The artifact `value` stands for, or undefined when it is not a platform marker of this execution.
 * `steps` are the caller's own execution's step records, read with the caller's tenant.
 */
export function markedArtifact(value: unknown, steps: readonly StoredStep[]): ArtifactRef | undefined {
  if (!looksLikeMarker(value)) return undefined;
  const record = steps.find((s) => s.stepKey === value.step);
  const ref = record?.outputRef;
  return ref && ref.uri === value.$ref ? ref : undefined;
}

/** Reads an artifact of `tenantId` (the store itself puts the key under the tenant's prefix). */
export async function readArtifact(
  artifacts: ArtifactStore,
  tenantId: string,
  ref: ArtifactRef,
): Promise<unknown> {
  return JSON.parse(await artifacts.get(tenantId, ref.key)) as unknown;
}
