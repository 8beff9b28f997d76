/**
 * The CDK app synthesized offline (aws-cdk-lib/assertions): the key policies
 * hold the attestation conditions, and the hosts are the right kinds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ConfigError } from '@veritee/attestations';
import { FleetStack, type FleetProps } from '../../src/cdk/fleet-stack.js';

const PCR0 = 'ab'.repeat(48);
const PROPS: FleetProps = {
  nitroImageSha384: [PCR0, 'CD'.repeat(48)],
  verifierImage: `registry.example/veritee-verifier@sha256:${'0'.repeat(64)}`,
  enclaveImageUri: 's3://veritee-images/enclave.eif',
  snpGuestAmiId: 'ami-0123456789abcdef0',
  operatorRoleArn: 'arn:aws:iam::123456789012:role/veritee-operator',
  account: '123456789012',
  region: 'eu-west-1',
};

type Statement = {
  Sid?: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};

const template = Template.fromStack(new FleetStack(new App(), 'Fleet', PROPS));

function keyStatements(description: RegExp): Statement[] {
  const keys = Object.values(template.findResources('AWS::KMS::Key')) as {
    Properties: { Description: string; KeyPolicy: { Statement: Statement[] } };
  }[];
  const key = keys.find((k) => description.test(k.Properties.Description));
  assert.ok(key !== undefined, `a key described ${String(description)}`);
  return key.Properties.KeyPolicy.Statement;
}
const decrypts = (statement: Statement) =>
  [statement.Action].flat().some((action) => action === 'kms:Decrypt' || action === 'kms:*');

describe('FleetStack', () => {
  it('lets Nitro hosts decrypt model keys only with an attestation of an approved image', () => {
    const statements = keyStatements(/Nitro enclave images/);
    const decrypting = statements.filter(decrypts);
    assert.equal(decrypting.length, 1, 'one statement grants Decrypt, nobody else may');
    assert.deepEqual(decrypting[0]!.Condition, {
      StringEqualsIgnoreCase: {
        'kms:RecipientAttestation:ImageSha384': [PCR0, 'cd'.repeat(48)],
      },
    });
    const admin = statements.find((s) => s.Sid === 'OperatorsAdministerTheKey');
    assert.ok(admin !== undefined && !decrypts(admin), 'operators administer but cannot decrypt');
  });

  it('lets only the verifier (the SNP key broker) decrypt SEV-SNP model keys', () => {
    const decrypting = keyStatements(/SEV-SNP/).filter(decrypts);
    assert.equal(decrypting.length, 1);
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('SEV-SNP'),
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'KeyBrokerDecrypts',
            Principal: {
              AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('VerifierTaskRole'), 'Arn'] },
            },
          }),
        ]),
      },
    });
  });

  it('signs receipts with a P-256 KMS key the verifier may use only to sign', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['kms:Sign', 'kms:GetPublicKey'] }),
        ]),
      },
    });
  });

  it('declares Nitro-enabled hosts and SEV-SNP guests', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        EnclaveOptions: { Enabled: true },
        InstanceType: 'm6i.xlarge',
      }),
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        CpuOptions: { AmdSevSnp: 'enabled' },
        InstanceType: 'm6a.xlarge',
        ImageId: 'ami-0123456789abcdef0',
      }),
    });
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 2);
  });

  it('runs the verifier with PostgreSQL, the KMS signer and the key broker on', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      StorageEncrypted: true,
      PubliclyAccessible: false,
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Image: PROPS.verifierImage,
          // arrayWith keeps order: the environment as the stack declares it.
          Environment: Match.arrayWith([
            Match.objectLike({ Name: 'VERITEE_KMS_KEY_ID' }),
            { Name: 'VERITEE_KEY_BROKER', Value: '1' },
            { Name: 'VERITEE_ALLOW_SIMULATED', Value: '0' },
            Match.objectLike({ Name: 'VERITEE_DATABASE_URL' }),
          ]),
          Secrets: Match.arrayWith([Match.objectLike({ Name: 'PGPASSWORD' })]),
        }),
      ]),
    });
  });

  it('refuses settings that would deploy something unpinned or unapproved', () => {
    const bad: Partial<FleetProps>[] = [
      { nitroImageSha384: [] },
      { nitroImageSha384: ['not-a-pcr'] },
      { verifierImage: 'registry.example/veritee-verifier:latest' },
      { enclaveImageUri: 'https://example/enclave.eif' },
      { snpGuestAmiId: 'latest' },
      { region: '${Token[AWS.Region.4]}' },
    ];
    for (const change of bad)
      assert.throws(
        () => new FleetStack(new App(), 'Fleet', { ...PROPS, ...change }),
        (error: unknown) => error instanceof ConfigError && error.code === 'CONFIG_INVALID',
        JSON.stringify(change),
      );
  });
});
