/** One dependency the API needs to answer (the table, the audit bucket, the user pool). */
export interface ReadinessProbe {
  readonly name: string;
  /** Resolves when the dependency answers; rejects (or never settles) when it does not. */
  check(): Promise<unknown>;
}

/** One probe's outcome. */
export interface ReadinessCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
}

/** What the readiness check needs. */
export interface ReadinessDeps {
  readonly probes: readonly ReadinessProbe[];
  /** A probe slower than this counts as failed. */
  readonly timeoutMs: number;
  /** Told about each failed probe (a log line); the answer only says which one failed. */
  readonly onFailure?: (check: string, error: string) => void;
}

async function probe(deps: ReadinessDeps, p: ReadinessProbe): Promise<ReadinessCheck> {
  const started = performance.now();
  try {
    await Promise.race([
      p.check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), deps.timeoutMs).unref()),
    ]);
    return { name: p.name, ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    deps.onFailure?.(p.name, error instanceof Error ? error.message : String(error));
    return { name: p.name, ok: false, ms: Math.round(performance.now() - started) };
  }
}

/** Runs every probe at once: ready when all answer, degraded otherwise. */
export async function readiness(
  deps: ReadinessDeps,
): Promise<{ status: 'ready' | 'degraded'; checks: ReadinessCheck[] }> {
  const checks = await Promise.all(deps.probes.map((p) => probe(deps, p)));
  return { status: checks.every((c) => c.ok) ? 'ready' : 'degraded', checks };
}
