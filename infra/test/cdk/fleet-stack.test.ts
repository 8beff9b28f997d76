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
  hostImage: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/veritee-host@sha256:${'1'.repeat(64)}`,
  publicDomainName: 'verifier.example.com',
  certificateArn:
    'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000',
  logNoteKeySecretArn:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:veritee/log-note-key-AbCdEf',
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

/** The Nitro hosts' user data, rendered. */
function nitroScript(): string {
  const [nitro] = Object.values(template.findResources('AWS::EC2::LaunchTemplate')).filter(
    (resource) =>
      (resource as { Properties: { LaunchTemplateData: { EnclaveOptions?: unknown } } }).Properties
        .LaunchTemplateData.EnclaveOptions !== undefined,
  ) as { Properties: { LaunchTemplateData: { UserData: { 'Fn::Base64': unknown } } } }[];
  assert.ok(nitro !== undefined);
  return renderJoin(nitro.Properties.LaunchTemplateData.UserData['Fn::Base64']);
}

/** The verifier's container definition. */
function verifierContainer(): Record<string, unknown> {
  const definitions = Object.values(template.findResources('AWS::ECS::TaskDefinition')).flatMap(
    (resource) =>
      (resource as { Properties: { ContainerDefinitions: Record<string, unknown>[] } }).Properties
        .ContainerDefinitions,
  );
  const container = definitions.find((definition) => definition['Image'] === PROPS.verifierImage);
  assert.ok(container !== undefined);
  return container;
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
    const script = nitroScript();
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
      { hostImage: 'registry.example/veritee-host:latest' },
      { publicDomainName: 'https://verifier.example.com' },
      { certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' },
      { logNoteKeySecretArn: 'veritee/log-note-key' },
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

  it('starts the host relay on Nitro hosts after the enclave relay, supervised, with its token and the private verifier', () => {
    const lines = nitroScript().split('\n');
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    const host = lines[at(/^systemd-run --unit veritee-host /)] ?? '';
    assert.ok(at(/^systemd-run --unit veritee-host /) > at(/--unit veritee-enclave-relay /));
    assert.match(host, /--property Restart=always/);
    assert.match(
      host,
      /After=veritee-enclave-relay\.service .*Requires=veritee-enclave-relay\.service/,
    );
    assert.match(host, /--read-only --env-file \/etc\/veritee\/host\.env/);
    assert.match(host, /VERITEE_ENCLAVE_URL=http:\/\/127\.0\.0\.1:7001/);
    assert.match(host, /VERITEE_VERIFIER_URL=http:\/\/\{?.*VerifierPrivate/);
    assert.ok(host.endsWith(PROPS.hostImage), 'the pinned image');
    assert.ok(
      at(/^aws ecr get-login-password .*--password-stdin 123456789012\.dkr\.ecr/) <
        at(/^docker pull /),
    );
  });

  it('lets Nitro hosts read the enclave image from S3, that object only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: Match.arrayWith([{ Ref: Match.stringLikeRegexp('NitroHostRole') }]),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:GetObject',
            Resource: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':s3:::veritee-images/enclave.eif'],
              ],
            },
          }),
        ]),
      },
    });
  });

  it('serves the verifier over HTTPS with the given certificate, redirects HTTP, and keeps the admin API off the public listener', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: PROPS.certificateArn }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [
        Match.objectLike({
          Type: 'redirect',
          RedirectConfig: Match.objectLike({ Protocol: 'HTTPS' }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/v1/admin/*'] } }],
      Actions: [
        Match.objectLike({
          Type: 'fixed-response',
          FixedResponseConfig: Match.objectLike({ StatusCode: '404' }),
        }),
      ],
    });
    // The private balancer: internal, reached from the hosts' security groups only.
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
    });
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (rule) =>
        JSON.stringify((rule as { Properties: { GroupId: unknown } }).Properties.GroupId).includes(
          'VerifierPrivateSecurityGroup',
        ),
    );
    assert.ok(ingress.length >= 2, 'from the Nitro hosts and the SEV-SNP guests');
    for (const rule of ingress)
      assert.ok(
        JSON.stringify(rule).match(/NitroHostSg|SnpGuestSg/),
        `no ingress but the hosts: ${JSON.stringify(rule)}`,
      );
  });

  it('names the public URL as the issuer and log origin, shares the log note key, and health-checks /readyz', () => {
    const container = verifierContainer();
    const environment = Object.fromEntries(
      (container['Environment'] as { Name: string; Value: unknown }[]).map((e) => [
        e.Name,
        e.Value,
      ]),
    );
    assert.equal(environment['VERITEE_ISSUER'], 'https://verifier.example.com');
    assert.equal(environment['VERITEE_LOG_ORIGIN'], 'verifier.example.com/log');
    assert.deepEqual(
      (container['Secrets'] as { Name: string; ValueFrom: unknown }[]).find(
        (secret) => secret.Name === 'VERITEE_LOG_NOTE_KEY',
      )?.ValueFrom,
      PROPS.logNoteKeySecretArn,
    );
    const healthChecks = Object.values(
      template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'),
    ).map(
      (group) => (group as { Properties: { HealthCheckPath?: string } }).Properties.HealthCheckPath,
    );
    assert.deepEqual(healthChecks, ['/readyz', '/readyz'], 'public and private target groups');
  });

  it('runs the verifier on a read-only root filesystem with one writable data volume', () => {
    const container = verifierContainer();
    assert.equal(container['ReadonlyRootFilesystem'], true);
    assert.deepEqual(container['MountPoints'], [
      { ContainerPath: '/var/lib/veritee', ReadOnly: false, SourceVolume: 'data' },
    ]);
    assert.equal(
      (container['Environment'] as { Name: string; Value: unknown }[]).find(
        (e) => e.Name === 'VERITEE_VERIFIER_DATA',
      )?.Value,
      '/var/lib/veritee',
    );
  });

  it('alarms when a verifier is not ready and when AMD KDS errors climb', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'UnHealthyHostCount',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.code = "KDS_*" }',
      MetricTransformations: [
        Match.objectLike({ MetricNamespace: 'Veritee', MetricName: 'KdsErrors' }),
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'KdsErrors',
      Namespace: 'Veritee',
      Statistic: 'Sum',
    });
  });
});
