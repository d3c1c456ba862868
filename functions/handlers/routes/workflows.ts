import { adapters } from '#adapters/wiring/api.ts';
import { type ApprovalDeps, decideApproval } from '#core/approvals/decide.ts';
import { listApprovals } from '#core/approvals/queries.ts';
import { listDefinitions, listDefinitionVersions } from '#core/versioning/definitions.ts';
import { ENVIRONMENTS } from '#core/versioning/model.ts';
import {
  createWorkflow,
  deleteWorkflow,
  diffVersions,
  getWorkflow,
  getWorkflowVersion,
  requestPromotion,
  rollbackWorkflow,
  updateWorkflow,
} from '#core/versioning/workflows.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { defaulted, extend, int, oneOf, t, typeError } from '#shared/schema.ts';
import { headView, jsonObject, versionNumber, versionView } from './definitions.ts';
import { authErrors, created, idParam, listOf, pageOf, pageQuery } from './schemas.ts';
import {
  approvalView,
  diffView,
  pageOfItems,
  promotionApplied,
  promotionPending,
  workflowDoc,
  workflowVersionView,
  workflowView,
} from './views.ts';

const deps = () => adapters().workflows;
const approvalDeps = (): ApprovalDeps => ({
  approvals: adapters().approvals,
  executions: adapters().executions,
  workflows: adapters().workflows,
});
const params = t.Object({ workflowId: idParam }, { additionalProperties: false });
const view = workflowView;
const notFound = { 404: { description: 'No such workflow in this tenant' } } as const;

const approvalSchema = approvalView;

/** Workflows, their versions, diff, rollback and promotion; and the approvals inbox. */
export const workflowRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/workflows',
    summary: 'List workflows (latest versions and environments)',
    tag: 'workflows',
    auth: 'workflows:read',
    query: pageQuery,
    responses: { 200: { description: 'Workflows', schema: listOf(view) }, ...authErrors },
    handler: async ({ principal, query }) => {
      const page = await listDefinitions(deps(), principal.tenantId, 'workflow', pageOf(query));
      return { status: 200, body: { ...page, items: page.items.map((h) => headView('workflow', h)) } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/workflows',
    summary: 'Create a workflow: validated, pinned to current agent and tool versions, compiled to ASL',
    tag: 'workflows',
    auth: 'workflows:write',
    body: jsonObject,
    bodyDoc: workflowDoc,
    responses: {
      201: { description: 'Created', schema: view, headers: created },
      ...authErrors,
      413: { description: 'The body, or the compiled state machine, is too large' },
    },
    handler: async ({ principal, meta, body }) => {
      const head = await createWorkflow(deps(), { principal, meta }, body);
      return {
        status: 201,
        body: headView('workflow', head),
        headers: { location: `/workflows/${head.id}` },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/workflows/{workflowId}',
    summary: 'Read a workflow (latest version)',
    tag: 'workflows',
    auth: 'workflows:read',
    params,
    responses: { 200: { description: 'The workflow', schema: view }, ...authErrors, ...notFound },
    handler: async ({ principal, params: p }) => ({
      status: 200,
      body: headView('workflow', await getWorkflow(deps(), principal.tenantId, p.workflowId)),
    }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/workflows/{workflowId}',
    summary: 'Replace a workflow: creates a new immutable version',
    tag: 'workflows',
    auth: 'workflows:write',
    params,
    body: jsonObject,
    bodyDoc: workflowDoc,
    responses: { 200: { description: 'New version', schema: view }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params: p, body }) => ({
      status: 200,
      body: headView('workflow', await updateWorkflow(deps(), { principal, meta }, p.workflowId, body)),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/workflows/{workflowId}',
    summary: 'Delete a workflow (refused while promoted to staging or prod)',
    tag: 'workflows',
    auth: 'workflows:write',
    params,
    responses: {
      204: { description: 'Deleted' },
      ...authErrors,
      ...notFound,
      409: { description: 'Still promoted' },
    },
    handler: async ({ principal, meta, params: p }) => {
      await deleteWorkflow(deps(), { principal, meta }, p.workflowId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/workflows/{workflowId}/versions',
    summary: 'List versions, newest first (each with its compiled ASL)',
    tag: 'workflows',
    auth: 'workflows:read',
    params,
    query: pageQuery,
    responses: {
      200: { description: 'Versions', schema: pageOfItems(workflowVersionView) },
      ...authErrors,
      ...notFound,
    },
    handler: async ({ principal, params: p, query }) => {
      const page = await listDefinitionVersions(
        deps(),
        principal.tenantId,
        'workflow',
        p.workflowId,
        pageOf(query),
      );
      return { status: 200, body: { ...page, items: page.items.map((v) => versionView('workflow', v)) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/workflows/{workflowId}/versions/{version}',
    summary: 'Read one version with its pins and compiled ASL',
    tag: 'workflows',
    auth: 'workflows:read',
    params: extend(params, { version: versionNumber }),
    responses: {
      200: { description: 'The version', schema: workflowVersionView },
      ...authErrors,
      ...notFound,
    },
    handler: async ({ principal, params: p }) => ({
      status: 200,
      body: versionView(
        'workflow',
        await getWorkflowVersion(deps(), principal.tenantId, p.workflowId, p.version),
      ),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/workflows/{workflowId}/diff',
    summary: 'Structured diff of two versions: steps added, removed and changed (with fields)',
    tag: 'workflows',
    auth: 'workflows:read',
    params,
    // A missing version would otherwise be reported as "received NaN": name what is needed.
    query: t.Object(
      {
        from: typeError(
          int({ minimum: 1, maximum: 1_000_000 }),
          'required: the version number to compare from',
        ),
        to: typeError(int({ minimum: 1, maximum: 1_000_000 }), 'required: the version number to compare to'),
      },
      { additionalProperties: false },
    ),
    responses: { 200: { description: 'The diff', schema: diffView }, ...authErrors, ...notFound },
    handler: async ({ principal, params: p, query }) => ({
      status: 200,
      body: await diffVersions(deps(), principal.tenantId, p.workflowId, query.from, query.to),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/workflows/{workflowId}/rollback',
    summary: 'Make a new version equal to an old one',
    tag: 'workflows',
    auth: 'workflows:write',
    params,
    body: t.Object({ version: int({ minimum: 1 }) }, { additionalProperties: false }),
    responses: {
      201: { description: 'New version', schema: view, headers: created },
      ...authErrors,
      ...notFound,
    },
    handler: async ({ principal, meta, params: p, body }) => {
      const head = await rollbackWorkflow(deps(), { principal, meta }, p.workflowId, body.version);
      return {
        status: 201,
        body: headView('workflow', head),
        headers: { location: `/workflows/${head.id}/versions/${head.latestVersion}` },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/workflows/{workflowId}/promotions',
    summary: 'Point an environment at a version; prod waits for another person’s approval',
    tag: 'workflows',
    auth: 'workflows:promote',
    params,
    body: t.Object(
      { version: int({ minimum: 1 }), environment: oneOf(ENVIRONMENTS) },
      { additionalProperties: false },
    ),
    responses: {
      200: { description: 'Applied (dev, staging)', schema: promotionApplied },
      202: { description: 'Waiting for approval (prod)', schema: promotionPending, headers: created },
      ...authErrors,
      ...notFound,
    },
    handler: async ({ principal, meta, params: p, body }) => {
      const result = await requestPromotion(deps(), { principal, meta }, p.workflowId, body);
      return result.status === 'applied'
        ? { status: 200, body: { status: 'applied', workflow: headView('workflow', result.workflow) } }
        : {
            status: 202,
            body: { status: 'pending', approval: result.approval },
            headers: { location: `/approvals/${result.approval.approvalId}` },
          };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/approvals',
    summary: 'Approvals (workflow steps and promotions) in one status, default pending, newest first',
    tag: 'approvals',
    auth: 'approvals:decide',
    query: extend(pageQuery, {
      status: defaulted(oneOf(['pending', 'approved', 'rejected', 'expired', 'cancelled']), 'pending'),
    }),
    responses: { 200: { description: 'Approvals', schema: listOf(approvalSchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listApprovals(approvalDeps(), principal.tenantId, query.status, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/approvals/{approvalId}/decision',
    summary: 'Approve or reject; nobody decides their own request',
    tag: 'approvals',
    auth: 'approvals:decide',
    params: t.Object({ approvalId: idParam }, { additionalProperties: false }),
    body: t.Object(
      {
        decision: oneOf(['approve', 'reject']),
        comment: t.Optional(t.String({ maxLength: 2000 })),
      },
      { additionalProperties: false },
    ),
    responses: {
      200: { description: 'Decided', schema: approvalSchema },
      ...authErrors,
      404: { description: 'No such approval' },
      409: { description: 'Not pending any more' },
    },
    handler: async ({ principal, meta, params: p, body }) => {
      const decided = await decideApproval(approvalDeps(), { principal, meta }, p.approvalId, body);
      return { status: 200, body: decided };
    },
  }),
];
