/**
 * Types of the validators `console/scripts/validators.ts` generates into validators.js (gitignored,
 * written by `npm run console:build`) from the API's published JSON schemas.
 */
export interface ValidationError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

export interface Validator {
  (value: unknown): boolean;
  errors?: ValidationError[] | null;
}

export declare const Agent: Validator;
export declare const Tool: Validator;
export declare const Workflow: Validator;
