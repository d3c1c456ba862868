import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api.ts';
import type { Me, PageProps } from '../app.tsx';
import { href } from '../router.ts';
import { ActionButton, ErrorBox, formatDate, Page, StatusBadge, useAsync } from '../ui.tsx';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
type ApprovalStatus = (typeof STATUSES)[number];

/**
 * Why the caller may not decide, mirroring the API's own rule (no self-approval unless the step
 * allows it) so the button is disabled with the reason instead of failing with 403.
 */
export function selfApprovalReason(approval: Schemas['ApprovalOutput'], me: Me): string | undefined {
  if (approval.allowRequesterApproval) return undefined;
  const mine = approval.requestedBy === me.principal.id || approval.requestedFor === me.principal.id;
  if (!mine) return undefined;
  return approval.kind === 'promotion'
    ? 'You requested this promotion; someone else with approvals:decide must approve it.'
    : 'You started this execution; someone else with approvals:decide must approve it.';
}

function ApprovalCard({
  approval,
  me,
  onDecided,
}: {
  approval: Schemas['ApprovalOutput'];
  me: Me;
  onDecided: () => void;
}) {
  const [comment, setComment] = useState('');
  // One decision at a time: while either is being sent, both buttons wait.
  const [deciding, setDeciding] = useState(false);
  const reason = selfApprovalReason(approval, me);
  const reasonId = `reason-${approval.approvalId}`;
  const decide = async (decision: 'approve' | 'reject'): Promise<void> => {
    setDeciding(true);
    try {
      await call(
        api().POST('/approvals/{approvalId}/decision', {
          params: { path: { approvalId: approval.approvalId } },
          body: { decision, ...(comment ? { comment } : {}) },
        }),
      );
    } finally {
      setDeciding(false);
    }
    onDecided();
  };
  return (
    <li class="card" data-approval-id={approval.approvalId}>
      <h2>
        {approval.kind === 'promotion'
          ? `Promote ${approval.workflowId} v${approval.version ?? '?'} to ${approval.environment ?? '?'}`
          : (approval.message ?? `Approval step ${approval.stepId ?? ''}`)}
      </h2>
      <p>
        <StatusBadge status={approval.status} /> requested by {approval.requestedBy} on{' '}
        {formatDate(approval.createdAt)}
        {approval.expiresAt ? `, expires ${formatDate(approval.expiresAt)}` : ''}
      </p>
      {approval.executionId && (
        <p>
          Execution{' '}
          <a class="tab" href={href('executions', approval.executionId)}>
            {approval.executionId}
          </a>
          , step {approval.stepId}
        </p>
      )}
      {approval.secrets && approval.secrets.length > 0 && <p>Uses secrets: {approval.secrets.join(', ')}</p>}
      {approval.status === 'pending' ? (
        <div class="decision">
          <label>
            Comment
            <input
              value={comment}
              maxLength={1000}
              onInput={(e) => setComment(e.currentTarget.value)}
              disabled={reason !== undefined}
            />
          </label>
          <ActionButton
            onClick={() => decide('approve')}
            disabled={reason !== undefined || deciding}
            describedBy={reason ? reasonId : undefined}
          >
            Approve
          </ActionButton>
          <ActionButton
            class="danger"
            confirm="Reject? A rejection is final."
            onClick={() => decide('reject')}
            disabled={reason !== undefined || deciding}
            describedBy={reason ? reasonId : undefined}
          >
            Reject
          </ActionButton>
          {reason && (
            <p id={reasonId} class="notice" data-testid="self-approval-reason">
              {reason}
            </p>
          )}
        </div>
      ) : (
        <p>
          {approval.decidedBy ? `Decided by ${approval.decidedBy}` : ''}
          {approval.comment ? `: “${approval.comment}”` : ''}
        </p>
      )}
    </li>
  );
}

export function ApprovalsPage({ me, query }: PageProps) {
  const param = query.get('status');
  const status: ApprovalStatus = (STATUSES as readonly string[]).includes(param ?? '')
    ? (param as ApprovalStatus)
    : 'pending';
  const list = useAsync(
    () => call(api().GET('/approvals', { params: { query: { status } } })),
    [status],
    3_000,
  );
  return (
    <Page title="Approvals">
      <nav aria-label="Approval status" class="tabs">
        {STATUSES.map((s) => (
          <a
            key={s}
            class="tab"
            href={`#/approvals?status=${s}`}
            aria-current={s === status ? 'page' : undefined}
          >
            {s}
          </a>
        ))}
      </nav>
      <ErrorBox error={list.error} />
      {list.data && list.data.items.length === 0 && <p class="muted">No {status} approvals.</p>}
      <ul class="cards">
        {list.data?.items.map((a) => (
          <ApprovalCard key={a.approvalId} approval={a} me={me} onDecided={list.reload} />
        ))}
      </ul>
    </Page>
  );
}
