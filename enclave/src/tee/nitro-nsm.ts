/**
 * Nitro quotes through the Nitro Secure Module (/dev/nsm): the NSM API's CBOR
 * request `{"Attestation": {"user_data", "nonce", "public_key"}}` and response
 * `{"Attestation": {"document"}}` or `{"Error": "<code>"}`
 * (aws-nitro-enclaves-nsm-api, src/api/mod.rs). The transport, an ioctl on
 * /dev/nsm, is injected: the protocol is tested against a stand-in responder.
 */
import { UpstreamError } from '@veritee/attestations';
import { decodeCbor, encodeCbor, NITRO_DOCUMENT_MAX_SIZE } from '@veritee/attestations/nitro';
import type { TeeProvider } from './provider.js';

/** Sends one CBOR request to the NSM and returns its CBOR response. */
export type NsmTransport = (request: Uint8Array) => Promise<Uint8Array>;

export function encodeNsmAttestationRequest(request: {
  userData: Uint8Array;
  nonce?: Uint8Array | undefined;
  publicKey?: Uint8Array | undefined;
}): Uint8Array {
  return encodeCbor(
    new Map([
      [
        'Attestation',
        new Map<string, Uint8Array | null>([
          ['user_data', request.userData],
          ['nonce', request.nonce ?? null],
          ['public_key', request.publicKey ?? null],
        ]),
      ],
    ]),
  );
}

/**
 * @throws UpstreamError TEE_QUOTE_FAILED for an NSM error or an unexpected response
 */
export function decodeNsmAttestationResponse(response: Uint8Array): Uint8Array {
  let value: unknown;
  try {
    value = decodeCbor(response, { maxDepth: 3, code: 'TEE_QUOTE_FAILED' });
  } catch (error) {
    throw new UpstreamError('TEE_QUOTE_FAILED', 'NSM response is not CBOR', { cause: error });
  }
  if (value instanceof Map && value.has('Error')) {
    const code: unknown = value.get('Error');
    throw new UpstreamError(
      'TEE_QUOTE_FAILED',
      `NSM answered error ${typeof code === 'string' ? code.slice(0, 32) : 'unknown'}`,
    );
  }
  const attestation: unknown = value instanceof Map ? value.get('Attestation') : undefined;
  const document: unknown = attestation instanceof Map ? attestation.get('document') : undefined;
  if (
    !(document instanceof Uint8Array) ||
    document.byteLength === 0 ||
    document.byteLength > NITRO_DOCUMENT_MAX_SIZE
  ) {
    throw new UpstreamError('TEE_QUOTE_FAILED', 'NSM response holds no attestation document');
  }
  return document;
}

export function createNsmTee(transport: NsmTransport): TeeProvider {
  return {
    kind: 'nitro',
    simulated: false,
    description: 'AWS Nitro Enclave via /dev/nsm',
    quote: async ({ reportData, nonce, publicKey }) =>
      decodeNsmAttestationResponse(
        await transport(encodeNsmAttestationRequest({ userData: reportData, nonce, publicKey })),
      ),
  };
}
