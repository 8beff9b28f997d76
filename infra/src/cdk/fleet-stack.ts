/**
 * The AWS deployment as code (aws-cdk-lib): enclave hosts of both kinds, the
 * KMS keys and their attestation-conditioned policies, and the verifier with
 * its PostgreSQL. Trust never rests on this stack: hosts are untrusted, and
 * keys reach only what attests. The stack makes the conditions explicit.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ConfigError } from '@veritee/attestations';
import { KEY_ADMIN_ACTIONS, nitroKeyPolicy } from '../kms/key-policy-template.js';

export interface FleetProps extends Omit<StackProps, 'env'> {
  /** Where to deploy: concrete, so the pinned AMI belongs to one region. */
  readonly account: string;
  readonly region: string;
  /**
   * Approved Nitro enclave images (PCR0, 96 hex digits): only these may
   * decrypt. Empty only to bootstrap (no Nitro hosts): the model key must
   * exist before the image that holds the sealed model can be built.
   */
  readonly nitroImageSha384: readonly string[];
  /** The verifier's container image, pinned by digest (`repo@sha256:...`; Dockerfile target `verifier`). */
  readonly verifierImage: string;
  /** The host relay's container image, pinned by digest (Dockerfile target `host`). */
  readonly hostImage: string;
  /** The verifier's public name: receipts' issuer `https://<name>`, log origin `<name>/log`. */
  readonly publicDomainName: string;
  /** The ACM certificate for that name, for HTTPS on the public listener. */
  readonly certificateArn: string;
  /**
   * The Secrets Manager secret (complete ARN) holding the log's note key,
   * made with `veritee operator log-key`: every replica signs checkpoints with it.
   */
  readonly logNoteKeySecretArn: string;
  /** Where the enclave image file (EIF) the Nitro hosts run is kept. */
  readonly enclaveImageUri: string;
  /** The AMI of the SEV-SNP guests (UEFI, AMD SEV-SNP capable), pinned. */
  readonly snpGuestAmiId: string;
  /** The role operators assume: administers keys, cannot decrypt. */
  readonly operatorRoleArn: string;
  readonly nitroHosts?: { readonly min: number; readonly max: number };
  readonly snpGuests?: { readonly min: number; readonly max: number };
}

function validate(props: FleetProps): void {
  if (!/^\d{12}$/.test(props.account) || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(props.region))
    throw new ConfigError(
      'CONFIG_INVALID',
      'account (12 digits) and region (e.g. eu-west-1) are required',
    );
  const bad = props.nitroImageSha384.find((value) => !/^[0-9a-f]{96}$/i.test(value));
  if (bad !== undefined)
    throw new ConfigError(
      'CONFIG_INVALID',
      `nitroImageSha384: ${JSON.stringify(bad.slice(0, 100))} is not 96 hex digits`,
    );
  if (props.nitroImageSha384.length === 0 && (props.nitroHosts?.max ?? 2) > 0)
    throw new ConfigError(
      'CONFIG_INVALID',
      'nitroImageSha384: at least one PCR0 is needed to run Nitro hosts (bootstrap with nitroHosts {"min": 0, "max": 0})',
    );
  if (!/@sha256:[0-9a-f]{64}$/.test(props.verifierImage))
    throw new ConfigError('CONFIG_INVALID', 'verifierImage must be pinned by digest (@sha256:...)');
  if (!/@sha256:[0-9a-f]{64}$/.test(props.hostImage))
    throw new ConfigError('CONFIG_INVALID', 'hostImage must be pinned by digest (@sha256:...)');
  if (
    !/^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(
      props.publicDomainName,
    )
  )
    throw new ConfigError(
      'CONFIG_INVALID',
      'publicDomainName must be a DNS name (verifier.example.com)',
    );
  if (
    !/^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/.test(props.certificateArn)
  )
    throw new ConfigError('CONFIG_INVALID', 'certificateArn must be an ACM certificate ARN');
  if (
    !/^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/.test(
      props.logNoteKeySecretArn,
    )
  )
    throw new ConfigError(
      'CONFIG_INVALID',
      'logNoteKeySecretArn must be the complete ARN of a Secrets Manager secret',
    );
  if (!/^s3:\/\/[a-z0-9.-]{3,63}\/\S+\.eif$/.test(props.enclaveImageUri))
    throw new ConfigError('CONFIG_INVALID', 'enclaveImageUri must be s3://bucket/key.eif');
  if (!/^ami-[0-9a-f]{8,17}$/.test(props.snpGuestAmiId))
    throw new ConfigError('CONFIG_INVALID', 'snpGuestAmiId must be an AMI id (ami-...)');
}

export class FleetStack extends Stack {
  readonly nitroModelKey: kms.Key;
  readonly snpModelKey: kms.Key;
  readonly signingKey: kms.Key;

  constructor(scope: Construct, id: string, props: FleetProps) {
    validate(props);
    super(scope, id, { ...props, env: { account: props.account, region: props.region } });
    // aws-cdk-lib's classes do not type-check as their interfaces under
    // exactOptionalPropertyTypes; these casts say nothing more than the class does.
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 }) as unknown as ec2.IVpc;

    // Roles first: the key policies name them.
    const nitroHostRole = new iam.Role(this, 'NitroHostRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    const snpGuestRole = new iam.Role(this, 'SnpGuestRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    const verifierTaskRole = new iam.Role(this, 'VerifierTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });

    // Nitro: KMS releases the data key itself, only to an approved image (Recipient).
    this.nitroModelKey = new kms.Key(this, 'NitroModelKey', {
      description: 'Veritee model data keys, released only to approved Nitro enclave images',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: iam.PolicyDocument.fromJson(
        nitroKeyPolicy({
          accountId: Aws.ACCOUNT_ID,
          enclaveRoleArn: nitroHostRole.roleArn,
          adminRoleArn: props.operatorRoleArn,
          imageSha384: props.nitroImageSha384,
        }),
      ),
    });

    // SEV-SNP: KMS cannot check SNP evidence, so only the verifier (the key
    // broker, which appraises it) may decrypt, and it logs every release.
    this.snpModelKey = new kms.Key(this, 'SnpModelKey', {
      description: 'Veritee model data keys for SEV-SNP, released by the verifier key broker',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'OperatorsAdministerTheKey',
            principals: [new iam.ArnPrincipal(props.operatorRoleArn)],
            actions: [...KEY_ADMIN_ACTIONS],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'KeyBrokerDecrypts',
            principals: [new iam.ArnPrincipal(verifierTaskRole.roleArn)],
            actions: ['kms:Decrypt'],
            resources: ['*'],
          }),
        ],
      }),
    });

    // Receipts, checkpoints and attestation results are signed with this key.
    this.signingKey = new kms.Key(this, 'ReceiptSigningKey', {
      description: 'Veritee verifier receipt signing key (ES256)',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.signingKey.grant(verifierTaskRole, 'kms:Sign', 'kms:GetPublicKey');

    const database = new rds.DatabaseInstance(this, 'LogDatabase', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      databaseName: 'veritee',
      credentials: rds.Credentials.fromGeneratedSecret('veritee'),
      storageEncrypted: true,
      multiAz: true,
      publiclyAccessible: false,
      backupRetention: Duration.days(35),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The hosts' credential for having receipts issued: only they grow the log.
    const hostReceiptToken = new secretsmanager.Secret(this, 'HostReceiptToken', {
      description: 'Veritee host receipt token: hosts send it, the verifier holds its digest',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    hostReceiptToken.grantRead(nitroHostRole);
    hostReceiptToken.grantRead(snpGuestRole);

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc }) as unknown as ecs.ICluster;
    const verifierLogs = new logs.LogGroup(this, 'VerifierLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const issuer = `https://${props.publicDomainName}`;
    // Public: HTTPS only (plain HTTP redirects), for relying parties, clients and witnesses.
    const verifier = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Verifier', {
      cluster,
      desiredCount: 2,
      cpu: 1024,
      memoryLimitMiB: 2048,
      publicLoadBalancer: true,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      redirectHTTP: true,
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      taskImageOptions: {
        image: ecs.ContainerImage.fromRegistry(props.verifierImage),
        containerPort: 7003,
        taskRole: verifierTaskRole,
        logDriver: ecs.LogDrivers.awsLogs({
          streamPrefix: 'verifier',
          logGroup: verifierLogs,
        }),
        environment: {
          VERITEE_VERIFIER_LISTEN: '0.0.0.0:7003',
          VERITEE_VERIFIER_DATA: '/var/lib/veritee',
          VERITEE_ISSUER: issuer,
          VERITEE_LOG_ORIGIN: `${props.publicDomainName}/log`,
          VERITEE_KMS_KEY_ID: this.signingKey.keyArn,
          VERITEE_KEY_BROKER: '1',
          VERITEE_ALLOW_SIMULATED: '0',
          VERITEE_DATABASE_URL: `postgresql://veritee@${database.dbInstanceEndpointAddress}:${database.dbInstanceEndpointPort}/veritee?sslmode=require`,
        },
        secrets: {
          PGPASSWORD: ecs.Secret.fromSecretsManager(database.secret!, 'password'),
          VERITEE_RECEIPT_TOKENS: ecs.Secret.fromSecretsManager(
            hostReceiptToken as unknown as secretsmanager.ISecret,
          ),
          VERITEE_LOG_NOTE_KEY: ecs.Secret.fromSecretsManager(
            secretsmanager.Secret.fromSecretCompleteArn(
              this,
              'LogNoteKey',
              props.logNoteKeySecretArn,
            ),
          ),
          VERITEE_ADMIN_TOKEN: ecs.Secret.fromSecretsManager(
            new secretsmanager.Secret(this, 'AdminToken', {
              generateSecretString: { passwordLength: 48, excludePunctuation: true },
            }) as unknown as secretsmanager.ISecret,
          ),
        },
      },
    });
    // Ready only with its keys, log and policy loaded: the load balancer asks /readyz.
    verifier.targetGroup.configureHealthCheck({ path: '/readyz' });
    database.connections.allowDefaultPortFrom(verifier.service);
    // A read-only root filesystem; the data directory (SQLite-free here) is the one writable place.
    const container = verifier.taskDefinition.defaultContainer!;
    verifier.taskDefinition.addVolume({ name: 'data' });
    container.addMountPoints({
      containerPath: '/var/lib/veritee',
      sourceVolume: 'data',
      readOnly: false,
    });
    (verifier.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).addPropertyOverride(
      'ContainerDefinitions.0.ReadonlyRootFilesystem',
      true,
    );
    // The admin API is not on the public listener at all.
    verifier.listener.addAction('AdminIsPrivate', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/v1/admin/*'])],
      action: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'application/problem+json',
        messageBody: JSON.stringify({
          title: 'Not Found',
          status: 404,
          code: 'REQUEST_NOT_FOUND',
          detail: 'the admin API is served on the private listener only',
        }),
      }),
    });
    // Private: the admin API for operators inside the VPC, and receipts for the hosts.
    const privateBalancer = new elbv2.ApplicationLoadBalancer(this, 'VerifierPrivate', {
      vpc,
      internetFacing: false,
    });
    const privateListener = privateBalancer.addListener('Private', { port: 80, open: false });
    privateListener.addTargets('Verifier', {
      port: 7003,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [verifier.service],
      healthCheck: { path: '/readyz' },
    });
    const verifierPrivateUrl = `http://${privateBalancer.loadBalancerDnsName}`;

    // Alarms: the verifier not ready, and AMD KDS failing the collateral it needs.
    new cloudwatch.Alarm(this, 'VerifierNotReady', {
      alarmDescription: 'A verifier task answers /readyz with 503 (keys, log or policy not loaded)',
      metric: verifier.targetGroup.metrics.unhealthyHostCount({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const kdsErrors = verifierLogs.addMetricFilter('KdsErrors', {
      filterPattern: logs.FilterPattern.stringValue('$.code', '=', 'KDS_*'),
      metricNamespace: 'Veritee',
      metricName: 'KdsErrors',
      metricValue: '1',
      defaultValue: 0,
    });
    new cloudwatch.Alarm(this, 'KdsErrorRate', {
      alarmDescription: 'Requests failing because AMD KDS (SEV-SNP collateral) did not answer',
      metric: kdsErrors.metric({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Nitro hosts: untrusted parents that run the enclave image and relay to it.
    const nitroSg = new ec2.SecurityGroup(this, 'NitroHostSg', { vpc });
    const snpSg = new ec2.SecurityGroup(this, 'SnpGuestSg', { vpc });
    for (const hosts of [nitroSg, snpSg])
      privateBalancer.connections.allowFrom(hosts, ec2.Port.tcp(80));
    const nitroTemplate = new ec2.LaunchTemplate(this, 'NitroHostTemplate', {
      instanceType: new ec2.InstanceType('m6i.xlarge'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      nitroEnclaveEnabled: true,
      role: nitroHostRole,
      requireImdsv2: true,
      userData: nitroUserData({
        enclaveImageUri: props.enclaveImageUri,
        receiptTokenArn: hostReceiptToken.secretArn,
        hostImage: props.hostImage,
        verifierUrl: verifierPrivateUrl,
        region: props.region,
      }),
      securityGroup: nitroSg,
    });
    // The hosts fetch the enclave image, and pull the host relay's image.
    const { bucket, key } = s3Location(props.enclaveImageUri);
    nitroHostRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [`arn:${Aws.PARTITION}:s3:::${bucket}/${key}`],
      }),
    );
    nitroHostRole.addManagedPolicy(
      iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryReadOnly'),
    );
    this.#fleet('NitroHosts', nitroTemplate, vpc, props.nitroHosts);

    // SEV-SNP guests: the instance is the confidential VM (AMD SEV-SNP CPU option).
    const snpTemplate = new ec2.LaunchTemplate(this, 'SnpGuestTemplate', {
      instanceType: new ec2.InstanceType('m6a.xlarge'),
      machineImage: ec2.MachineImage.genericLinux({ [props.region]: props.snpGuestAmiId }),
      role: snpGuestRole,
      requireImdsv2: true,
      securityGroup: snpSg,
    });
    (snpTemplate.node.defaultChild as ec2.CfnLaunchTemplate).addPropertyOverride(
      'LaunchTemplateData.CpuOptions.AmdSevSnp',
      'enabled',
    );
    this.#fleet('SnpGuests', snpTemplate, vpc, props.snpGuests);

    new CfnOutput(this, 'VerifierUrl', { value: issuer });
    new CfnOutput(this, 'VerifierLoadBalancer', {
      value: verifier.loadBalancer.loadBalancerDnsName,
      description: `point ${props.publicDomainName} here (CNAME or alias)`,
    });
    new CfnOutput(this, 'VerifierPrivateUrl', { value: verifierPrivateUrl });
    new CfnOutput(this, 'NitroModelKeyArn', { value: this.nitroModelKey.keyArn });
    new CfnOutput(this, 'SnpModelKeyArn', { value: this.snpModelKey.keyArn });
    new CfnOutput(this, 'ReceiptSigningKeyArn', { value: this.signingKey.keyArn });
  }

  /** Instances from a launch template, replaced one at a time when it changes. */
  #fleet(
    id: string,
    launchTemplate: ec2.LaunchTemplate,
    vpc: ec2.IVpc,
    capacity: FleetProps['nitroHosts'],
  ): void {
    new autoscaling.AutoScalingGroup(this, id, {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: capacity?.min ?? 1,
      maxCapacity: capacity?.max ?? 2,
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({ minInstancesInService: 1 }),
    });
  }
}

/** Bucket and key of an `s3://bucket/key` URI (validated before). */
function s3Location(uri: string): { bucket: string; key: string } {
  const [bucket = '', ...key] = uri.slice('s3://'.length).split('/');
  return { bucket, key: key.join('/') };
}

function nitroUserData(options: {
  readonly enclaveImageUri: string;
  readonly receiptTokenArn: string;
  readonly hostImage: string;
  readonly verifierUrl: string;
  readonly region: string;
}): ec2.UserData {
  const { enclaveImageUri, receiptTokenArn, hostImage, verifierUrl, region } = options;
  const registry = hostImage.split('/')[0] ?? '';
  const userData = ec2.UserData.forLinux();
  userData.addCommands(
    // The host's receipt token, root-only, for the host relay's unit; never on a command line.
    'install -d -m 700 /etc/veritee',
    `(umask 077; printf 'VERITEE_RECEIPT_TOKEN=%s\\n' "$(aws secretsmanager get-secret-value --secret-id ${receiptTokenArn} --query SecretString --output text)" > /etc/veritee/host.env)`,
    'dnf install -y aws-nitro-enclaves-cli socat docker',
    // The enclave gets 2 vCPUs and 4 GiB; the allocator reserves them at boot.
    "sed -i 's/^cpu_count:.*/cpu_count: 2/; s/^memory_mib:.*/memory_mib: 4096/' /etc/nitro_enclaves/allocator.yaml",
    'systemctl enable --now nitro-enclaves-allocator.service',
    // vsock 8000 -> this region's KMS (TLS end to end, from inside the enclave).
    'systemctl enable --now nitro-enclaves-vsock-proxy.service',
    // vsock 8002 -> instance metadata, so the enclave's SDK signs with this host's role.
    "echo '- {address: 169.254.169.254, port: 80}' >> /etc/nitro_enclaves/vsock-proxy.yaml",
    'systemd-run --unit veritee-imds-proxy --property Restart=always vsock-proxy 8002 169.254.169.254 80 --config /etc/nitro_enclaves/vsock-proxy.yaml',
    'install -d -m 755 /opt/veritee',
    `aws s3 cp ${JSON.stringify(enclaveImageUri)} /opt/veritee/enclave.eif`,
    'nitro-cli run-enclave --eif-path /opt/veritee/enclave.eif --cpu-count 2 --memory 4096 --enclave-cid 16',
    // The enclave API on this host's 127.0.0.1:7001, for the host relay (VERITEE_ENCLAVE_URL).
    'systemd-run --unit veritee-enclave-relay --property Restart=always socat TCP-LISTEN:7001,bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:16:7001',
    // The host relay, after the enclave and supervised: clients reach it on port 7000.
    'systemctl enable --now docker',
    ...(registry.includes('.dkr.ecr.')
      ? [
          `aws ecr get-login-password --region ${region} | docker login --username AWS --password-stdin ${registry}`,
        ]
      : []),
    `docker pull ${hostImage}`,
    [
      'systemd-run --unit veritee-host --property Restart=always',
      '--property After=veritee-enclave-relay.service --property Requires=veritee-enclave-relay.service',
      '/usr/bin/docker run --rm --name veritee-host --network host --read-only --env-file /etc/veritee/host.env',
      '-e VERITEE_HOST_LISTEN=0.0.0.0:7000 -e VERITEE_ENCLAVE_URL=http://127.0.0.1:7001',
      `-e VERITEE_VERIFIER_URL=${verifierUrl} ${hostImage}`,
    ].join(' '),
  );
  return userData;
}
