/**
 * The reference handler of a function: a module that imports the AWS SDK clients and Powertools
 * utilities the function imports, creates each once (clients wrapped by the tracer, as
 * functions/adapters/aws-clients.ts does) and does nothing else. Its bundle size and module-init time
 * are the floor the function's own code is measured against.
 */
import type { Metafile } from 'esbuild';

/** Scopes whose packages the reference reproduces. */
const SCOPES = ['@aws-sdk/', '@aws-lambda-powertools/'] as const;

/** Powertools utilities and the class each package's utility is created from. */
const POWERTOOLS_UTILITIES: Readonly<Record<string, string>> = {
  '@aws-lambda-powertools/logger': 'Logger',
  '@aws-lambda-powertools/metrics': 'Metrics',
  '@aws-lambda-powertools/tracer': 'Tracer',
};

const DOCUMENT_CLIENT_PACKAGE = '@aws-sdk/lib-dynamodb';
const DYNAMODB_CLIENT_PACKAGE = '@aws-sdk/client-dynamodb';

/** `@scope/name` of an import specifier such as `@scope/name/sub/path`. */
function packageOf(specifier: string): string {
  return specifier.split('/').slice(0, 2).join('/');
}

/**
 * The AWS SDK and Powertools packages the function imports, from the esbuild metafile: packages that a
 * file of the project (not of node_modules) imports at run time and that put bytes into the bundle.
 * Type-only imports are gone by then; SDK packages pulled in only by other SDK packages (core,
 * middleware, credential providers) are not listed, they come with the clients.
 */
export function sdkPackagesOf(metafile: Metafile): string[] {
  const imported = new Set<string>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    if (file.includes('node_modules/')) continue;
    for (const record of input.imports) {
      const specifier = record.original;
      if (record.external || specifier === undefined) continue;
      if (SCOPES.some((scope) => specifier.startsWith(scope))) imported.add(packageOf(specifier));
    }
  }
  const bundled = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, contribution] of Object.entries(output.inputs)) {
      if (contribution.bytesInOutput === 0) continue;
      const match = /node_modules\/(@[^/]+\/[^/]+)\//.exec(file);
      if (match?.[1]) bundled.add(match[1]);
    }
  }
  return [...imported].filter((name) => bundled.has(name)).sort();
}

/**
 * The client class an `@aws-sdk/client-*` package exports (`DynamoDBClient`, `S3Client`, ...), found by
 * loading the package: its one export named `<Service>Client`.
 */
async function clientClassOf(packageName: string): Promise<string> {
  const exported: Record<string, unknown> = await import(packageName);
  const names = Object.keys(exported).filter(
    (name) => /^[A-Z][A-Za-z0-9]*Client$/.test(name) && typeof exported[name] === 'function',
  );
  if (names.length !== 1 || names[0] === undefined) {
    throw new Error(
      `Cannot tell the client class of ${packageName}: expected one "<Service>Client" export, found ${JSON.stringify(names)}`,
    );
  }
  return names[0];
}

/** What a reference contains, for the report. */
export interface ReferencePlan {
  /** Client classes created, e.g. `DynamoDBClient`. */
  readonly clients: readonly string[];
  /** Powertools utilities created, e.g. `Logger`. */
  readonly utilities: readonly string[];
  /** Whether a DynamoDB document client wraps the DynamoDB client. */
  readonly documentClient: boolean;
  /** Packages with no known shape: imported whole (namespace import), so they count in full. */
  readonly wholeModules: readonly string[];
}

/** The reference module's source (plain ESM JavaScript) and what it contains. */
export async function referenceSource(
  functionEntry: string,
  packages: readonly string[],
): Promise<{ source: string; plan: ReferencePlan }> {
  const imports: string[] = [];
  const clients: string[] = [];
  const utilities: string[] = [];
  const wholeModules: string[] = [];
  const wanted = new Set(packages);
  const documentClient = wanted.has(DOCUMENT_CLIENT_PACKAGE);
  // The document client wraps a DynamoDB client: the function has one even if it never names it.
  if (documentClient) wanted.add(DYNAMODB_CLIENT_PACKAGE);

  for (const name of [...wanted].sort()) {
    const utility = POWERTOOLS_UTILITIES[name];
    if (utility) {
      imports.push(`import { ${utility} } from '${name}';`);
      utilities.push(utility);
    } else if (name.startsWith('@aws-sdk/client-')) {
      const client = await clientClassOf(name);
      imports.push(`import { ${client} } from '${name}';`);
      clients.push(client);
    } else if (name === DOCUMENT_CLIENT_PACKAGE) {
      imports.push(`import { DynamoDBDocumentClient } from '${name}';`);
    } else {
      imports.push(`import * as module${wholeModules.length} from '${name}';`);
      wholeModules.push(name);
    }
  }

  const traced = utilities.includes('Tracer');
  const created = (client: string): string =>
    traced ? `tracer.captureAWSv3Client(new ${client}({}))` : `new ${client}({})`;
  const lines = [
    `// Generated by bench/reference.ts for ${functionEntry}: the AWS SDK clients and Powertools`,
    '// utilities it imports, each created once, and nothing else.',
    ...imports,
    '',
    ...utilities.map((utility) => `const ${utility.toLowerCase()} = new ${utility}();`),
    ...clients.map(
      (client) => `const ${client.charAt(0).toLowerCase()}${client.slice(1)} = ${created(client)};`,
    ),
    ...(documentClient ? ['const documentClient = DynamoDBDocumentClient.from(dynamoDBClient);'] : []),
    `const created = [${[
      ...utilities.map((u) => u.toLowerCase()),
      ...clients.map((c) => `${c.charAt(0).toLowerCase()}${c.slice(1)}`),
      ...(documentClient ? ['documentClient'] : []),
      ...wholeModules.map((_, i) => `module${i}`),
    ].join(', ')}];`,
    '',
    'export const handler = async () => ({ statusCode: 200, body: String(created.length) });',
    '',
  ];
  return { source: lines.join('\n'), plan: { clients, utilities, documentClient, wholeModules } };
}
