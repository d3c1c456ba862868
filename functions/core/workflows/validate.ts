/**
 * Workflow validation: limits first (cheap, so hostile input is refused fast), then the field schema,
 * then the graph: targets, reachability, next/end, cycles, agents and tools, templates and data flow.
 * Every problem found is reported at once, each with its path (`steps.a.next`). The rules live in
 * validate/: limits.ts, graph.ts (the graph rules) and data-flow.ts (what each step may read).
 */

import { check } from '#shared/schema.ts';
import { jsonSchemaProblems } from '../catalog/json-schema.ts';
import { DEFINITION, isRecord, ProblemList } from '../catalog/problems.ts';
import { type FieldProblem, ValidationError } from '../errors.ts';
import { type WorkflowDefinition, workflowSchema } from './model.ts';
import { checkDataFlow } from './validate/data-flow.ts';
import { buildGraphs, checkGraphs, type WorkflowValidationContext } from './validate/graph.ts';
import { limitProblems } from './validate/limits.ts';

export type { WorkflowValidationContext } from './validate/graph.ts';
export { WORKFLOW_LIMITS } from './validate/limits.ts';

/**
 * Validates a workflow definition and returns it typed. Throws `PayloadTooLargeError` when the
 * serialized definition exceeds 1 MB, `ValidationError` (with every problem and its path) otherwise.
 */
export function validateWorkflow(input: unknown, ctx: WorkflowValidationContext): WorkflowDefinition {
  const limits = limitProblems(input);
  if (limits.length > 0) throw new ValidationError(`Workflow exceeds limits: ${describe(limits)}`, limits);
  const problems = new ProblemList();
  const parsed = check(workflowSchema, input, DEFINITION);
  if (!parsed.ok) problems.addAll(parsed.problems);
  if (isRecord(input)) {
    // Tolerant: the graph rules read the raw input, so they run even when some fields failed.
    if (input.inputSchema !== undefined)
      problems.addAll(jsonSchemaProblems(input.inputSchema, 'inputSchema'));
    const tree = buildGraphs(input, problems);
    checkGraphs(tree, ctx, problems);
    checkDataFlow(tree, problems);
  }
  if (problems.size > 0 || !parsed.ok) {
    throw new ValidationError(`Invalid workflow: ${describe(problems.items)}`, problems.items);
  }
  return parsed.value;
}

function describe(problems: readonly FieldProblem[]): string {
  const first = problems[0];
  if (!first) return 'invalid';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${first.path || 'definition'}: ${first.message}${more}`;
}
