import type { PageProps } from '../app.tsx';
import { Page } from '../ui.tsx';

export function KeysPage(_props: PageProps) {
  return <Page title="API keys">TODO</Page>;
}
