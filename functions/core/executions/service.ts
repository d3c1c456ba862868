/**
 * Where the execution use cases used to live, kept so that existing imports keep working. New code
 * imports the module it needs: deps, queries, cancel and status here, step approvals from
 * functions/core/approvals/steps.ts.
 */
export { type ApprovalRequest, decideStepApproval, requestStepApproval } from '../approvals/steps.ts';
export { cancelExecution } from './cancel.ts';
export type { ExecutionDeps } from './deps.ts';
export { type ExecutionView, getExecution, listExecutions, type StepView } from './queries.ts';
export { recordStatus, type StatusChange } from './status.ts';
