import type { DemoInfo } from '../bin/local/state.ts';

// Values the integration global setup hands to every test file through `inject()`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the local API, e.g. http://127.0.0.1:41234 */
    apiUrl: string;
    /** Contents of the platform's demo.json: tenant, users and their passwords, Cognito ids. */
    demo: DemoInfo;
  }
}
