import type { DemoInfo } from '../bin/local/state.ts';

// Values the integration global setup hands to every test file through `inject()`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the local API, e.g. http://127.0.0.1:41234 */
    apiUrl: string;
    /** Contents of the platform's demo.json: tenant, users and their passwords, Cognito ids. */
    demo: DemoInfo;
    /** DynamoDB Local of the platform (table `meridian-local`), for tests that inspect or tamper with data. */
    dynamodbEndpoint: string;
    s3Endpoint: string;
    /** The platform's state folder (the local mailbox is its `mailbox/`). */
    stateDir: string;
    /** Where the test DNS server reads TXT records from (test/helpers/dns-zone.ts writes them). */
    dnsZoneDir: string;
    /** A file that receives everything the platform process writes (stdout and stderr). */
    platformLogFile: string;
    /** AUTH_CACHE_TTL_SECONDS of the test platform: how long a revocation takes to bite. */
    authCacheTtlSeconds: number;
    /** The integration platform's log of the AWS calls each function made (bin/local/call-log.ts). */
    awsCallLog: string;
  }
}
