import type { PageProps } from '../app.tsx';
import { Page } from '../ui.tsx';

export function SecretsPage(_props: PageProps) {
  return <Page title="Secrets">TODO</Page>;
}
