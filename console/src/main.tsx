import { render } from 'preact';
import { initApi } from './api.ts';
import { App, Fatal } from './app.tsx';
import { completeOAuth, useConfig } from './auth.ts';
import { loadConfig } from './config.ts';

/** Start: configuration, a possible return from the sign-in server, then the app. */
async function start(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  try {
    const config = await loadConfig();
    useConfig(config);
    initApi(config);
    let signInError: string | undefined;
    try {
      const returnTo = await completeOAuth(config);
      if (returnTo) window.location.hash = returnTo;
    } catch (error) {
      signInError = error instanceof Error ? error.message : String(error);
    }
    render(<App config={config} signInError={signInError} />, root);
  } catch (error) {
    render(<Fatal message={error instanceof Error ? error.message : String(error)} />, root);
  }
}

void start();
