/** The CMS EnvelopedData KMS returns for a Recipient: the format lives in attestations. */
export { createEnvelopedData as envelopeForRecipient } from '@veritee/attestations';
