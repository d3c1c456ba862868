import type { ComponentChildren, FormHTMLAttributes, TargetedEvent } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** Shared pieces of every page: loading data, showing errors, formatting. */

export interface Async<T> {
  readonly data?: T;
  readonly error?: string;
  readonly loading: boolean;
  reload(): void;
}

/**
 * Runs `load` now, again whenever `deps` change or `reload()` is called, and every `pollMs` when set
 * (live status); a slower earlier answer never overwrites a newer one.
 */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[], pollMs?: number): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (mine === generation.current) setState({ data, loading: false });
      },
      (error: unknown) => {
        if (mine === generation.current) setState((s) => ({ ...s, error: messageOf(error), loading: false }));
      },
    );
  }, [...deps, tick]);
  useEffect(() => {
    if (!pollMs) return;
    const timer = setInterval(reload, pollMs);
    return () => clearInterval(timer);
  }, [pollMs, reload]);
  return { ...state, reload };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function ErrorBox({ error }: { error?: string | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Page({
  title,
  children,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  useEffect(() => {
    document.title = `${title} · Meridian Console`;
  }, [title]);
  return (
    <section aria-labelledby="page-title">
      <header class="page-header">
        <h1 id="page-title">{title}</h1>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  if (value === undefined) return <span class="muted">none</span>;
  return (
    <section class="json" aria-label={label ?? 'JSON'}>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (axe scrollable-region-focusable) */}
      <pre tabIndex={0}>{JSON.stringify(value, null, 2)}</pre>
    </section>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status.toLowerCase()}`}>{status.replace(/_/g, ' ')}</span>;
}

export function formatDate(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Decimal USD strings are exact; show them as they are, with the currency. */
export function formatUsd(value: string | undefined): string {
  return value === undefined ? '' : `$${value}`;
}

/**
 * A form whose async submit runs once at a time: while it runs the form is `aria-busy` and its
 * submit buttons are disabled, and another submit (a double click, Enter again) is ignored, so a
 * slow answer never creates the same thing twice.
 */
export function BusyForm({
  onSubmit,
  children,
  ...attributes
}: Omit<FormHTMLAttributes<HTMLFormElement>, 'onSubmit'> & {
  onSubmit: (event: TargetedEvent<HTMLFormElement, Event>) => unknown;
  children: ComponentChildren;
}) {
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  return (
    <form
      {...attributes}
      aria-busy={busy}
      onSubmit={async (event) => {
        event.preventDefault();
        if (running.current) return;
        running.current = true;
        setBusy(true);
        // Every control that submits (a button is one unless typed otherwise); only those this
        // disabled are enabled again, so one disabled for its own reason stays so.
        const submitters = [
          ...event.currentTarget.querySelectorAll<HTMLButtonElement | HTMLInputElement>(
            'button:not([type]), button[type="submit"], input[type="submit"]',
          ),
        ].filter((control) => !control.disabled);
        for (const control of submitters) control.disabled = true;
        try {
          await onSubmit(event);
        } finally {
          for (const control of submitters) control.disabled = false;
          running.current = false;
          setBusy(false);
        }
      }}
    >
      {children}
    </form>
  );
}

/**
 * A button that runs an async action, disables itself meanwhile and shows the action's error. With
 * `confirm`, the action runs only once the person confirms that question (what cannot be undone).
 */
export function ActionButton({
  onClick,
  children,
  disabled,
  class: className,
  title,
  describedBy,
  confirm,
}: {
  onClick: () => Promise<unknown>;
  children: ComponentChildren;
  disabled?: boolean;
  class?: string;
  title?: string;
  describedBy?: string;
  confirm?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <span class="action">
      <button
        type="button"
        class={className}
        disabled={disabled || busy}
        title={title}
        aria-describedby={describedBy}
        onClick={async () => {
          if (confirm !== undefined && !window.confirm(confirm)) return;
          setBusy(true);
          setError(undefined);
          try {
            await onClick();
          } catch (e) {
            setError(messageOf(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        {children}
      </button>
      <ErrorBox error={error} />
    </span>
  );
}

/** Loads a page module on first render (dynamic import keeps elkjs and uPlot out of the initial JS). */
export function lazyPage<P extends object>(load: () => Promise<(props: P) => preact.JSX.Element>) {
  let cached: ((props: P) => preact.JSX.Element) | undefined;
  return function Lazy(props: P) {
    const [component, setComponent] = useState(() => cached);
    const [error, setError] = useState<string>();
    useEffect(() => {
      if (component) return;
      load().then(
        (loaded) => {
          cached = loaded;
          setComponent(() => loaded);
        },
        (e: unknown) => setError(messageOf(e)),
      );
    }, [component]);
    if (error) return <ErrorBox error={error} />;
    if (!component) return <p class="muted">Loading…</p>;
    const Component = component;
    return <Component {...props} />;
  };
}
