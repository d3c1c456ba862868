// Values the AWS suite's global setup hands to its test files through `inject()`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** The AWS API endpoint under test (moto by default); empty for AWS itself. */
    awsEndpoint: string;
    /** True when the suite started moto itself. */
    awsIsMoto: boolean;
  }
}

export {};
