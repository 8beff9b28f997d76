/**
 * The CDK app: `npm run synth -w infra` writes the CloudFormation to
 * infra/cdk.out (what `cdk synth` does), and `npx aws-cdk deploy --app
 * infra/cdk.out` deploys it. Settings come from infra/fleet.json (see
 * fleet.example.json), so the approved images are reviewed like code.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '@veritee/attestations';
import { FleetStack, type FleetProps } from './fleet-stack.js';

const file = process.env['VERITEE_FLEET_CONFIG'] ?? 'fleet.json';
let props: FleetProps;
try {
  props = JSON.parse(readFileSync(file, 'utf8')) as FleetProps;
} catch {
  throw new ConfigError('CONFIG_INVALID', `cannot read the fleet settings ${JSON.stringify(file)}`);
}
const app = new App({ outdir: process.env['CDK_OUTDIR'] ?? 'cdk.out' });
new FleetStack(app, 'VeriteeFleet', props);
app.synth();
