import { Duration, Lazy, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Function as CloudFrontFunction,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { consoleCsp } from '#shared/console-csp.ts';
import { acknowledgeResourceStar, acknowledgeWildcardResource } from '../compliance.ts';

/** Properties of {@link ConsoleSite}. */
export interface ConsoleSiteProps {
  /** The built console (`console/dist`, `npm run console:build`). */
  readonly distPath: string;
  /** Server access logs of the console bucket. */
  readonly accessLogsBucket: IBucket;
  readonly removalPolicy: RemovalPolicy;
  /** Retention of the deployment handler's logs. */
  readonly logRetention: RetentionDays;
}

/** What the console's config.json tells it: the API and the hosted login (console/src/config.ts). */
export interface ConsoleRuntimeConfig {
  /** The API's base URL (`ApiUrl`). */
  readonly apiUrl: string;
  /** The hosted login's base URL, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly hostedLoginBaseUrl: string;
  /** The public app client's id. */
  readonly clientId: string;
  /** The scopes the console asks for. */
  readonly scopes: readonly string[];
}

/** Where the console lives on its distribution; the same path as on the local platform. */
export const CONSOLE_PATH = '/console/';

/**
 * The Meridian Console on AWS: a private bucket read only by one CloudFront distribution through
 * origin access control, security headers on every answer (HSTS, a CSP without inline script or
 * eval, no framing, nosniff, referrer policy), and a deployment of the built files plus a
 * generated config.json. The console is static: it calls the API and Cognito directly, so the
 * CSP's connect-src names the hosted login and the region's API Gateway domain (set by
 * {@link publish}).
 */
export class ConsoleSite extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** `https://<distribution domain>` (a token). */
  readonly origin: string;
  /** `https://<distribution domain>/console/`: the OAuth redirect and logout URI. */
  readonly url: string;
  private connectSources: string[] = [];

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'console/',
      // Rebuilt from source on every deploy: nothing in it needs keeping.
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: false,
    });

    const headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Meridian Console security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          // Lazy: the API and Cognito origins are known only once those constructs exist.
          contentSecurityPolicy: Lazy.string({ produce: () => this.csp() }),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365 * 2),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: {
          referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
      },
    });

    // `/` and `/console` redirect to `/console/`, and `/console/` serves index.html (S3 through OAC
    // has no index documents). Routes live in the hash, so no other rewrite is needed.
    const rewrite = new CloudFrontFunction(this, 'IndexRewrite', {
      runtime: FunctionRuntime.JS_2_0,
      comment: 'Meridian Console: index and redirect',
      code: FunctionCode.fromInline(
        [
          'function handler(event) {',
          '  var request = event.request;',
          "  if (request.uri === '/' || request.uri === '/console') {",
          "    return { statusCode: 308, statusDescription: 'Permanent Redirect', headers: { location: { value: '/console/' } } };",
          '  }',
          "  if (request.uri === '/console/') request.uri = '/console/index.html';",
          '  return request;',
          '}',
        ].join('\n'),
      ),
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Meridian Console',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
        functionAssociations: [{ function: rewrite, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.url = `${this.origin}${CONSOLE_PATH}`;

    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'The console is static files for tenants anywhere; access is decided by Cognito sign-in and the API, not by the viewer country.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'The distribution serves only immutable static files (GET/HEAD, cached); the API behind its own throttling and authorizer is the surface worth a WAF.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR3',
      reason:
        "CloudFront standard logs need an ACL-enabled bucket; the access-log bucket enforces bucket-owner ownership. The bucket's own S3 access logs and the API's access logs record every meaningful request.",
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'No custom domain is configured, so the *.cloudfront.net certificate is used, whose security policy CloudFront fixes; browsers negotiate TLS 1.2 or 1.3 with it, and HSTS pins HTTPS.',
    });

    // The deployment handler gets its own role and log group: no AWS managed policy (the
    // project's rule for every role), logs kept like the rest of the stack's.
    const deployLogs = new LogGroup(this, 'DeploymentLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const deployRole = new Role(this, 'DeploymentRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Meridian Console: copies the built console into its bucket during deployments',
    });
    deployRole.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [deployLogs.logGroupArn],
      }),
    );
    this.deployment = new BucketDeployment(this, 'Files', {
      role: deployRole,
      logGroup: deployLogs,
      sources: [Source.asset(props.distPath, { exclude: ['.vite', '.vite/**'] })],
      destinationBucket: this.bucket,
      destinationKeyPrefix: CONSOLE_PATH.slice(1),
      distribution: this.distribution,
      distributionPaths: [`${CONSOLE_PATH}index.html`, `${CONSOLE_PATH}config.json`],
      // config.json is added by publish(); files of older builds are removed.
      prune: true,
      memoryLimit: 512,
    });
    acknowledgeDeploymentHandler(this);
  }

  private readonly deployment: BucketDeployment;

  /**
   * Writes config.json (API URL, hosted login endpoints, client id) next to the console and lets
   * the CSP's connect-src reach exactly the API and the hosted login.
   */
  publish(config: ConsoleRuntimeConfig): void {
    const login = config.hostedLoginBaseUrl;
    this.deployment.addSource(
      Source.jsonData(`${CONSOLE_PATH.slice(1)}config.json`, {
        apiUrl: config.apiUrl,
        hostedLogin: {
          authorizeUrl: `${login}/oauth2/authorize`,
          tokenUrl: `${login}/oauth2/token`,
          revokeUrl: `${login}/oauth2/revoke`,
          logoutUrl: `${login}/logout`,
          clientId: config.clientId,
          scopes: [...config.scopes],
        },
      }),
    );
    // The API is named by its service domain in this region, not its id: the API's CORS names this
    // distribution, so naming the API here would make the two depend on each other (a cycle).
    this.connectSources = [`https://*.execute-api.${Stack.of(this).region}.amazonaws.com`, login];
  }

  /** The Content-Security-Policy of every answer. */
  private csp(): string {
    return consoleCsp(this.connectSources, { https: true });
  }
}

/**
 * BucketDeployment's handler is a CDK-managed singleton Lambda (Python, AWS CLI layer) that runs
 * only during deployments; its findings are acknowledged on it, each with its reason.
 */
function acknowledgeDeploymentHandler(site: ConsoleSite): void {
  const stack = Stack.of(site);
  const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!(handler instanceof LambdaFunction)) return;
  const lifecycle = 'it runs only while CloudFormation deploys the console';
  const reasons: Record<string, string> = {
    'AwsSolutions-L1':
      "The runtime of the CDK's BucketDeployment handler is chosen by aws-cdk-lib, which moves it forward with each release.",
    'Serverless-LambdaLatestVersion':
      "The runtime of the CDK's BucketDeployment handler is chosen by aws-cdk-lib, which moves it forward with each release.",
    'Serverless-LambdaDLQ':
      'The BucketDeployment handler is a custom resource CloudFormation invokes synchronously; a failure fails the deployment, so nothing waits in a queue.',
    'Serverless-LambdaTracing': `The BucketDeployment handler only copies the built console into its bucket; ${lifecycle}, whose events are its trace.`,
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]':
      "The handler reads the console's build from the CDK bootstrap asset bucket; the asset key is only known at deploy time.",
  };
  for (const action of ['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*']) {
    reasons[`AwsSolutions-IAM5[Action::${action}]`] =
      `BucketDeployment grants ${action} on the asset bucket and the console bucket only, so it can sync and prune the console's files.`;
  }
  const role = handler.role;
  for (const [id, reason] of Object.entries(reasons)) {
    // The IAM findings are on the role's policy, the others on the function.
    Validations.of(id.startsWith('AwsSolutions-IAM') && role ? role : handler).acknowledge({ id, reason });
  }
  acknowledgeWildcardResource(
    role ?? handler,
    `${site.bucket.bucketArn}/*`,
    "The handler replaces every object of the console's own bucket on each deploy (sync with prune).",
  );
  if (role) {
    acknowledgeResourceStar(
      role,
      ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
      "BucketDeployment invalidates the console's index.html and config.json after each deploy; the CDK grants these on every distribution.",
    );
  }
}
