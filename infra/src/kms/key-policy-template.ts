/**
 * The KMS key policy that releases a model's data key only to approved Nitro
 * enclave images: `kms:Decrypt` is allowed to the enclave host's role only
 * with a Recipient attestation whose image hash (PCR0) is approved, and
 * denied to everyone else, operators included (they keep key administration).
 */
export interface NitroKeyPolicyOptions {
  readonly accountId: string;
  /** The role of the instances that run the approved enclaves. */
  readonly enclaveRoleArn: string;
  /** The operators' role: administers the key, cannot decrypt with it. */
  readonly adminRoleArn: string;
  /** Approved enclave image hashes (PCR0, 48 bytes hex), as nitro-cli prints them; none: nobody decrypts. */
  readonly imageSha384: readonly string[];
}

/** What operators may do with a model key: everything but decrypt. */
export const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:GenerateDataKey',
] as const;

export function nitroKeyPolicy(options: NitroKeyPolicyOptions): Record<string, unknown> {
  const images = options.imageSha384.map((value) => value.toLowerCase());
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OperatorsAdministerTheKey',
        Effect: 'Allow',
        Principal: { AWS: options.adminRoleArn },
        Action: [...KEY_ADMIN_ACTIONS],
        Resource: '*',
      },
      // KMS's ImageSha384 is PCR0 under another name (AWS KMS developer guide).
      ...(images.length === 0
        ? []
        : [
            {
              Sid: 'ApprovedEnclavesDecrypt',
              Effect: 'Allow',
              Principal: { AWS: options.enclaveRoleArn },
              Action: 'kms:Decrypt',
              Resource: '*',
              Condition: {
                StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': images },
              },
            },
          ]),
    ],
  };
}
