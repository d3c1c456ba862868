import type { PageProps } from '../app.tsx';
import { Page } from '../ui.tsx';

export function AccessPage(_props: PageProps) {
  return <Page title="Users, teams and roles">TODO</Page>;
}
