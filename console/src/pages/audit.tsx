import type { PageProps } from '../app.tsx';
import { Page } from '../ui.tsx';

export function AuditPage(_props: PageProps) {
  return <Page title="Audit">TODO</Page>;
}
