/**
 * Simulated Nitro attestation documents: COSE_Sign1 in CBOR with the NSM's
 * payload fields, ES384 by a short-lived (three hours, like AWS's) P-384 leaf
 * issued under the dev root's cabundle.
 */
import { createHash, KeyObject } from 'node:crypto';
import { signEs384 } from '../signature.js';
import { encodeCbor } from '../cbor.js';
import { ConfigError } from '../errors.js';
import type { Certificate } from '../x509.js';
import { generateIssuingKeyPair, issueCertificate } from './x509-issue.js';
import {
  coseSign1ToBeSigned,
  COSE_ALG_ES384,
  NITRO_PCR_SIZE,
  serializeNitroDocument,
  serializeNitroPayload,
  type NitroDocument,
  type NitroPayload,
} from '../nitro/document.js';
import { randomSerial, signerOf, type DevPki } from './pki.js';
import { memoizeAsync } from './memo.js';

export interface NitroSimulationOptions {
  /** Time the document is produced; the leaf is valid around it. */
  readonly at: Date;
  /** PCR values by index; unset indices 0-15 default (0-2 to fixed image values, others zero). */
  readonly pcrs?: Readonly<Record<number, Uint8Array>>;
  /** Debug mode: every PCR is zero, as the NSM reports for a debug enclave. */
  readonly debug?: boolean;
  readonly nonce?: Uint8Array | null;
  readonly userData?: Uint8Array | null;
  readonly publicKey?: Uint8Array | null;
  /** Failure knob: the timestamp in the payload, default `at`. */
  readonly timestamp?: Date;
  /** Failure knob: the leaf's validity, default the three-hour window holding `at`. */
  readonly leafValidity?: { readonly notBefore: Date; readonly notAfter: Date };
  /** Wrap in COSE tag 18; genuine documents are untagged. Default false. */
  readonly tagged?: boolean;
}

export interface SimulatedNitro {
  readonly document: NitroDocument;
  readonly evidence: Uint8Array;
  readonly leaf: Certificate;
}

/** Image PCR of a simulated enclave: SHA-384 of a label. */
export function simulatedPcr(index: number): Uint8Array {
  return new Uint8Array(
    createHash('sha384').update(`veritee simulated enclave pcr${index}`).digest(),
  );
}

const LEAF_LIFETIME_MS = 3 * 3_600_000;

export function createNitroSimulator(pki: DevPki) {
  const issuer = pki.nitro[pki.nitro.length - 1];
  if (issuer === undefined) throw new ConfigError('DEV_PKI_INVALID', 'dev PKI has no Nitro CAs');
  const leafFor = memoizeAsync(
    (validity: { notBefore: Date; notAfter: Date }) =>
      `${validity.notBefore.toISOString()}|${validity.notAfter.toISOString()}`,
    async (validity: { notBefore: Date; notAfter: Date }) => {
      const keys = await generateIssuingKeyPair('ECDSA-SHA384');
      const certificate = await issueCertificate(
        {
          subject:
            'CN=i-0sim-enc0sim.us-east-1.veritee-sim.nitro-enclaves, O=Veritee Simulator, OU=AWS, C=US',
          serialNumber: randomSerial(),
          ...validity,
          publicKey: keys.publicKey,
          ca: false,
        },
        signerOf(issuer),
      );
      return { certificate, key: KeyObject.from(keys.privateKey) };
    },
  );

  return async function simulateNitro(options: NitroSimulationOptions): Promise<SimulatedNitro> {
    const windowStart = Math.floor(options.at.getTime() / LEAF_LIFETIME_MS) * LEAF_LIFETIME_MS;
    const leaf = await leafFor(
      options.leafValidity ?? {
        notBefore: new Date(windowStart),
        notAfter: new Date(windowStart + LEAF_LIFETIME_MS),
      },
    );
    const pcrs = new Map<number, Uint8Array>();
    for (let index = 0; index < 16; index++) {
      const value =
        options.pcrs?.[index] ??
        (index <= 2 ? simulatedPcr(index) : new Uint8Array(NITRO_PCR_SIZE));
      pcrs.set(index, options.debug === true ? new Uint8Array(NITRO_PCR_SIZE) : value);
    }
    const payload: NitroPayload = {
      moduleId: 'i-0sim0000000000000-enc0sim00000000000',
      digest: 'SHA384',
      timestamp: (options.timestamp ?? options.at).getTime(),
      pcrs,
      certificate: leaf.certificate.der,
      cabundle: pki.nitro.map((ca) => ca.certificate.der),
      publicKey: options.publicKey ?? null,
      userData: options.userData ?? null,
      nonce: options.nonce ?? null,
    };
    const protectedHeader = encodeCbor(new Map([[1, COSE_ALG_ES384]]));
    const payloadBytes = serializeNitroPayload(payload);
    const toBeSigned = coseSign1ToBeSigned(protectedHeader, payloadBytes);
    const signature = await signEs384(toBeSigned, leaf.key);
    const document: NitroDocument = {
      tagged: options.tagged ?? false,
      protectedHeader,
      algorithm: COSE_ALG_ES384,
      payloadBytes,
      payload,
      signature,
    };
    return { document, evidence: serializeNitroDocument(document), leaf: leaf.certificate };
  };
}

export type NitroSimulator = ReturnType<typeof createNitroSimulator>;
