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

/** CloudFormation's Fn::Join rendered as text, each reference as {Ref:Id}. */
function renderJoin(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (object.Ref !== undefined) return `{Ref:${object.Ref}}`;
  if (object['Fn::Join'] !== undefined)
    return object['Fn::Join'][1].map(renderJoin).join(object['Fn::Join'][0]);
  return JSON.stringify(value);
}

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

  it('bootstraps without approved images: the model key exists, nothing may decrypt with it, no Nitro host runs', () => {
    const bootstrap = Template.fromStack(
      new FleetStack(new App(), 'Bootstrap', {
        ...PROPS,
        nitroImageSha384: [],
        nitroHosts: { min: 0, max: 0 },
      }),
    );
    const keys = Object.values(bootstrap.findResources('AWS::KMS::Key')) as {
      Properties: { Description: string; KeyPolicy: { Statement: Statement[] } };
    }[];
    const nitroKey = keys.find((k) => /Nitro enclave images/.test(k.Properties.Description));
    assert.ok(nitroKey !== undefined);
    assert.deepEqual(nitroKey.Properties.KeyPolicy.Statement.filter(decrypts), []);
    bootstrap.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '0',
      MaxSize: '0',
    });
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

  it('starts the enclave on Nitro hosts with its channels to KMS, credentials and the host relay', () => {
    const [nitro] = Object.values(template.findResources('AWS::EC2::LaunchTemplate')).filter(
      (resource) =>
        (resource as { Properties: { LaunchTemplateData: { EnclaveOptions?: unknown } } })
          .Properties.LaunchTemplateData.EnclaveOptions !== undefined,
    ) as { Properties: { LaunchTemplateData: { UserData: { 'Fn::Base64': unknown } } } }[];
    assert.ok(nitro !== undefined);
    const script = renderJoin(nitro.Properties.LaunchTemplateData.UserData['Fn::Base64']);
    const at = (pattern: RegExp) => {
      const index = script.split('\n').findIndex((line) => pattern.test(line));
      assert.ok(index >= 0, `user data runs ${String(pattern)}`);
      return index;
    };
    const started = at(/^nitro-cli run-enclave .*--enclave-cid 16$/);
    // run-enclave.sh dials the parent (CID 3) on vsock 8000 for KMS and 8002 for metadata.
    assert.ok(at(/systemctl enable --now nitro-enclaves-vsock-proxy\.service/) < started);
    assert.ok(at(/vsock-proxy 8002 169\.254\.169\.254 80/) < started);
    assert.ok(at(/169\.254\.169\.254, port: 80/) < at(/vsock-proxy 8002/));
    assert.ok(at(/socat TCP-LISTEN:7001,bind=127\.0\.0\.1.* VSOCK-CONNECT:16:7001/) > started);
    // The receipt token goes to a root-only file, fetched from the stack's own secret.
    assert.ok(
      at(
        /umask 077; .*get-secret-value --secret-id \{Ref:HostReceiptToken\w*\}.*> \/etc\/veritee\/host\.env/,
      ) < started,
    );
  });

  it("gives the verifier the hosts' receipt token from Secrets Manager, and only the hosts may read it", () => {
    const [tokenId] = Object.keys(template.findResources('AWS::SecretsManager::Secret')).filter(
      (id) => id.startsWith('HostReceiptToken'),
    );
    assert.ok(tokenId !== undefined);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Secrets: Match.arrayWith([
            { Name: 'VERITEE_RECEIPT_TOKENS', ValueFrom: { Ref: tokenId } },
          ]),
        }),
      ]),
    });
    const readers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter(
        (policy) =>
          JSON.stringify(policy).includes(`"Ref":"${tokenId}"`) &&
          JSON.stringify(policy).includes('secretsmanager:GetSecretValue'),
      )
      .map((policy) =>
        JSON.stringify((policy as { Properties: { Roles: unknown } }).Properties.Roles),
      );
    assert.equal(readers.length, 3, 'the verifier task, the Nitro hosts and the SEV-SNP guests');
    assert.ok(readers.some((roles) => roles.includes('NitroHostRole')));
    assert.ok(readers.some((roles) => roles.includes('SnpGuestRole')));
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
      { nitroImageSha384: [], nitroHosts: { min: 0, max: 1 } },
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
