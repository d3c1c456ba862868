import type { PageProps } from '../app.tsx';
import { Page } from '../ui.tsx';

export function UsagePage(_props: PageProps) {
  return <Page title="Usage">TODO</Page>;
}
