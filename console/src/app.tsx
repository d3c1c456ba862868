import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from './api.ts';
import { currentTokens, onSessionChange, passwordSignIn, signOut, startOAuth } from './auth.ts';
import type { ConsoleConfig } from './config.ts';
import { ApprovalsPage } from './pages/approvals.tsx';
import { ExecutionDetailPage, ExecutionsPage } from './pages/executions.tsx';
import { useRoute } from './router.ts';
import { ErrorBox, lazyPage, messageOf } from './ui.tsx';

/** The caller as GET /me describes it: what the navigation and the buttons offer depends on it. */
export type Me = NonNullable<Awaited<ReturnType<typeof loadMe>>>;

function loadMe() {
  return call(api().GET('/me'));
}

export interface PageProps {
  readonly me: Me;
  readonly parts: readonly string[];
  readonly query: URLSearchParams;
}

// Pages beyond the first screen load on demand: the graph (elkjs) and the charts (uPlot) are large.
const WorkflowsPage = lazyPage<PageProps>(() => import('./pages/workflows.tsx').then((m) => m.WorkflowsPage));
const DefinitionsPage = lazyPage<PageProps>(() =>
  import('./pages/definitions.tsx').then((m) => m.DefinitionsPage),
);
const UsagePage = lazyPage<PageProps>(() => import('./pages/usage.tsx').then((m) => m.UsagePage));
const AuditPage = lazyPage<PageProps>(() => import('./pages/audit.tsx').then((m) => m.AuditPage));
const KeysPage = lazyPage<PageProps>(() => import('./pages/keys.tsx').then((m) => m.KeysPage));
const AccessPage = lazyPage<PageProps>(() => import('./pages/access.tsx').then((m) => m.AccessPage));
const SecretsPage = lazyPage<PageProps>(() => import('./pages/secrets.tsx').then((m) => m.SecretsPage));

const NAV: readonly { path: string; label: string; permission?: string }[] = [
  { path: 'executions', label: 'Executions', permission: 'executions:read' },
  { path: 'approvals', label: 'Approvals', permission: 'approvals:decide' },
  { path: 'workflows', label: 'Workflows', permission: 'workflows:read' },
  { path: 'agents', label: 'Agents and tools', permission: 'agents:read' },
  { path: 'usage', label: 'Usage and cost', permission: 'usage:read' },
  { path: 'audit', label: 'Audit', permission: 'audit:read' },
  { path: 'keys', label: 'API keys', permission: 'apikeys:manage' },
  { path: 'access', label: 'Users, teams and roles', permission: 'users:manage' },
  { path: 'secrets', label: 'Secrets', permission: 'secrets:write' },
];

export function Fatal({ message }: { message: string }) {
  return (
    <main class="signin">
      <h1>Meridian Console</h1>
      <ErrorBox error={`The console cannot start: ${message}`} />
    </main>
  );
}

export function App({ config, signInError }: { config: ConsoleConfig; signInError?: string | undefined }) {
  const [signedIn, setSignedIn] = useState(() => currentTokens() !== undefined);
  useEffect(() => onSessionChange(() => setSignedIn(currentTokens() !== undefined)), []);
  return signedIn ? <Shell /> : <SignIn config={config} initialError={signInError} />;
}

function SignIn({ config, initialError }: { config: ConsoleConfig; initialError?: string | undefined }) {
  const [error, setError] = useState(initialError);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · Meridian Console';
    markInteractive();
  }, []);
  return (
    <main class="signin">
      <h1>Meridian Console</h1>
      {config.passwordSignIn && (
        <form
          aria-label="Sign in"
          onSubmit={async (event) => {
            event.preventDefault();
            const form = new FormData(event.currentTarget);
            setBusy(true);
            setError(undefined);
            try {
              await passwordSignIn(config, String(form.get('username')), String(form.get('password')));
            } catch (e) {
              setError(messageOf(e));
            } finally {
              setBusy(false);
            }
          }}
        >
          <label>
            Email
            <input name="username" type="email" autoComplete="username" required />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" required />
          </label>
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
      )}
      {config.hostedLogin && (
        <button
          type="button"
          onClick={() => config.hostedLogin && void startOAuth(config.hostedLogin, 'hosted')}
        >
          Sign in
        </button>
      )}
      {config.sso && (
        <button
          type="button"
          class="secondary"
          onClick={() => config.sso && void startOAuth(config.sso, 'sso')}
        >
          {config.sso.label ?? 'Sign in with SSO'}
        </button>
      )}
      <ErrorBox error={error} />
    </main>
  );
}

/** Marks the moment the first screen is usable, for the time-to-interactive budget (bench). */
function markInteractive(): void {
  if (performance.getEntriesByName('console-interactive').length === 0)
    performance.mark('console-interactive');
}

function Shell() {
  const route = useRoute();
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    loadMe().then(setMe, (e: unknown) => setError(messageOf(e)));
  }, []);
  useEffect(() => {
    if (me) markInteractive();
  }, [me]);
  if (error) return <Fatal message={error} />;
  if (!me) return <p class="muted">Loading…</p>;
  const section = route.parts[0] ?? 'executions';
  const props: PageProps = { me, parts: route.parts, query: route.query };
  const can = (permission?: string): boolean => !permission || me.permissions.includes(permission);
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Meridian</span>
        <span class="who">
          {me.principal.email ?? me.principal.id}
          {me.tenant ? ` · ${me.tenant.name}` : ''}
        </span>
        <button type="button" class="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <nav aria-label="Sections">
        <ul>
          {NAV.filter((item) => can(item.permission)).map((item) => (
            <li key={item.path}>
              <a
                class="navlink"
                href={`#/${item.path}`}
                aria-current={section === item.path ? 'page' : undefined}
              >
                {item.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">{renderPage(section, props)}</main>
    </div>
  );
}

function renderPage(section: string, props: PageProps) {
  switch (section) {
    case 'executions':
      return props.parts[1] ? <ExecutionDetailPage {...props} /> : <ExecutionsPage {...props} />;
    case 'approvals':
      return <ApprovalsPage {...props} />;
    case 'workflows':
      return <WorkflowsPage {...props} />;
    case 'agents':
      return <DefinitionsPage {...props} />;
    case 'usage':
      return <UsagePage {...props} />;
    case 'audit':
      return <AuditPage {...props} />;
    case 'keys':
      return <KeysPage {...props} />;
    case 'access':
      return <AccessPage {...props} />;
    case 'secrets':
      return <SecretsPage {...props} />;
    default:
      return <p>No such page.</p>;
  }
}

export type { Schemas };
