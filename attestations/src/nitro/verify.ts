/**
 * Verification of a Nitro attestation document: the cabundle chain from the
 * pinned root to the leaf certificate, every link valid at the given time, then
 * the ES384 signature over the COSE Sig_structure (RFC 9052, section 4.4) with
 * the leaf's key.
 */
import { ChainError } from '../errors.js';
import { bytesEqual } from '../bytes.js';
import { assertLink, timeWindow, type TimeWindow } from '../chain.js';
import { parseCertificateCached, type Certificate } from '../x509.js';
import { isP384Key, verifyEs384 } from '../signature.js';
import { evidenceSignatures, signatureKey } from '../signature-memo.js';
import { markVerified, type Verified } from '../evidence/verified.js';
import type { NitroAnchor, TrustStore } from '../evidence/trust.js';
import { coseSign1ToBeSigned, type NitroDocument } from './document.js';

export interface NitroVerifyOptions {
  readonly trust: TrustStore;
  /** The time at which every certificate must be valid. */
  readonly at: Date;
  /** Accept a chain ending in a simulated (dev) root. Default false. */
  readonly allowSimulated?: boolean | undefined;
}

/** A document whose chain and signature were verified. */
export interface NitroEvidence {
  readonly format: 'nitro';
  readonly document: NitroDocument;
  readonly leaf: Certificate;
  readonly simulated: boolean;
  /** When this verification holds: every certificate of the chain is valid. */
  readonly window: TimeWindow;
}

/**
 * @throws ChainError NITRO_CHAIN_UNTRUSTED, NITRO_SIMULATED_NOT_ALLOWED, NITRO_COSE_BAD_SIGNATURE,
 *   NITRO_LEAF_KEY_INVALID and the chain codes of {@link assertLink}
 * @throws EvidenceError X509_MALFORMED
 */
export function verifyNitro(
  document: NitroDocument,
  options: NitroVerifyOptions,
): Verified<NitroEvidence> {
  const { payload } = document;
  const [rootDer, ...intermediateDers] = payload.cabundle;
  const anchor = rootDer === undefined ? undefined : findAnchor(rootDer, options.trust);
  if (anchor === undefined)
    throw new ChainError(
      'NITRO_CHAIN_UNTRUSTED',
      'the cabundle does not start with a trusted root',
    );
  if (anchor.simulated && options.allowSimulated !== true) {
    throw new ChainError(
      'NITRO_SIMULATED_NOT_ALLOWED',
      'the chain ends in a simulated (dev) root, and simulated evidence is not allowed',
    );
  }
  const leaf = parseCertificateCached(payload.certificate);
  const chain = [anchor.root, ...intermediateDers.map((der) => parseCertificateCached(der)), leaf];
  assertLink(anchor.root, anchor.root, options.at, 'NITRO');
  for (let index = 1; index < chain.length; index++) {
    const child = chain[index] as Certificate;
    assertLink(child, chain[index - 1] as Certificate, options.at, 'NITRO');
  }

  if (!isP384Key(leaf.publicKey)) {
    throw new ChainError('NITRO_LEAF_KEY_INVALID', 'leaf key is not ECDSA P-384');
  }
  const toBeSigned = coseSign1ToBeSigned(document.protectedHeader, document.payloadBytes);
  if (
    !evidenceSignatures.remember(
      signatureKey('cose', toBeSigned, document.signature, leaf.fingerprint),
      () => verifyEs384(toBeSigned, leaf.publicKey, document.signature),
    )
  )
    throw new ChainError(
      'NITRO_COSE_BAD_SIGNATURE',
      'COSE_Sign1 signature does not verify with the leaf key',
    );
  return markVerified({
    format: 'nitro',
    document,
    leaf,
    simulated: anchor.simulated,
    window: timeWindow(chain),
  });
}

function findAnchor(rootDer: Uint8Array, trust: TrustStore): NitroAnchor | undefined {
  return trust.nitro.find((anchor) => bytesEqual(anchor.root.der, rootDer));
}
