import { App, Validations } from 'aws-cdk-lib';
import { compliancePacks } from '../lib/compliance.ts';
import { addMeridianStack } from '../lib/meridian-stack.ts';

/**
 * The CDK app: `npx cdk synth -c stage=dev|prod` (default dev). The stack is environment-agnostic
 * (no account or region, no lookups), so synth runs offline without credentials and the deploy
 * target comes from the CLI's credentials. cdk-nag findings fail synth.
 */
const app = new App();
addMeridianStack(app);
Validations.of(app).addPlugins(...compliancePacks(app));
