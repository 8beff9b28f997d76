/**
 * Property tests over every parser a stranger's bytes reach: whatever fast-check
 * draws (random bytes, random JSON, real inputs with random edits, signed
 * claims of any shape), a parser returns or throws a typed Veritee error, and
 * appraisal never accepts. Seeded, so a failure names a seed that reproduces
 * it; each property stops at its run count or its time budget.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { isVeriteeError } from '../../src/index.js';
import { appraise, parseCertificate, parseCrl } from '../../src/evidence/index.js';
import { parseNitroDocument, decodeCbor } from '../../src/nitro/index.js';
import { parseEndorsement, parseSnpCertTable, parseSnpReport } from '../../src/snp/index.js';
import { parsePolicy } from '../../src/policy/index.js';
import { mergeSettings } from '../../src/config/index.js';
import {
  generateEnclaveKeyPair,
  parseSealedModel,
  sealModel,
  openInferenceRequest,
  sealInferenceRequest,
} from '../../src/seal/index.js';
import {
  parseJwks,
  parseReceiptBundle,
  parseReferenceValue,
  peekJwsClaims,
  verifyReceipt,
} from '../../src/receipt/index.js';
import { parseEnclaveAnswer, parseHostAnswer } from '../../src/wire/index.js';
import {
  decodeEntryBundle,
  formatCheckpoint,
  NOTE_SIGNATURE_ED25519,
  noteSignerFromSeed,
  openNote,
  parseCheckpoint,
  parseNoteSignerKey,
  parseNoteVerifier,
  parseTilePath,
  signNote,
} from '../../src/tlog/index.js';
import { vectors, vectorFile } from '@veritee/mock/vectors';
import { applyMutation, mutationArbitrary } from './mutation.js';

const SEED = 0x5eed;
const budget = (numRuns: number) => ({ seed: SEED, numRuns, interruptAfterTimeLimit: 4000 });

/** Runs `parse`; anything thrown must be a typed Veritee error. */
function typedOnly(parse: () => unknown): boolean {
  try {
    parse();
  } catch (error) {
    if (!isVeriteeError(error)) throw error;
    assert.notEqual(error.code, 'INTERNAL_ERROR');
  }
  return true;
}

async function typedOnlyAsync(parse: () => Promise<unknown>): Promise<boolean> {
  try {
    await parse();
  } catch (error) {
    if (!isVeriteeError(error)) throw error;
  }
  return true;
}

const real = vectors.filter((vector) => vector.expect === 'accept');
const snpReports = real.filter((v) => v.format === 'sev-snp').map((v) => vectorFile(v.evidence));
const nitroDocuments = real.filter((v) => v.format === 'nitro').map((v) => vectorFile(v.evidence));
const endorsements = real.flatMap((v) => (v.endorsement ? [vectorFile(v.endorsement)] : []));
/** A real input with a few random edits, a cut or a tail. */
const mutatedFrom = (inputs: readonly Uint8Array[]) =>
  fc
    .tuple(fc.constantFrom(...inputs), mutationArbitrary)
    .map(([input, mutation]) => applyMutation(input, mutation));
const anyBytes = fc.uint8Array({ maxLength: 8192 });
const json = fc.jsonValue({ maxDepth: 4 });

describe('parsers under random input', () => {
  it('SNP reports and certificate tables', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedFrom(snpReports)), (bytes) =>
        typedOnly(() => parseSnpReport(bytes)),
      ),
      budget(2000),
    );
    const entry = fc.tuple(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.nat(600),
      fc.nat(600),
    );
    const table = fc
      .tuple(fc.array(entry, { maxLength: 5 }), fc.uint8Array({ maxLength: 600 }))
      .map(([entries, data]) => {
        const out = new Uint8Array((entries.length + 1) * 24 + data.length);
        const view = new DataView(out.buffer);
        entries.forEach(([guid, offset, length], i) => {
          out.set(guid, i * 24);
          view.setUint32(i * 24 + 16, offset, true);
          view.setUint32(i * 24 + 20, length, true);
        });
        out.set(data, (entries.length + 1) * 24);
        return out;
      });
    fc.assert(
      fc.property(fc.oneof(anyBytes, table), (bytes) => typedOnly(() => parseSnpCertTable(bytes))),
      budget(2000),
    );
  });

  it('endorsements, certificates and CRLs, DER and PEM', () => {
    const pem = fc
      .tuple(fc.string({ maxLength: 40 }), fc.base64String({ maxLength: 2000 }))
      .map(
        ([junk, body]) =>
          `${junk}-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
      );
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedFrom(endorsements), pem), (input) =>
        typedOnly(() => {
          parseEndorsement(input);
          parseCertificate(input);
          if (typeof input !== 'string') parseCrl(input);
        }),
      ),
      budget(600),
    );
  });

  it('Nitro documents and strict CBOR', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedFrom(nitroDocuments)), (bytes) =>
        typedOnly(() => {
          parseNitroDocument(bytes);
          decodeCbor(bytes, { maxDepth: 8, code: 'TEST_CBOR' });
        }),
      ),
      budget(2000),
    );
  });

  it('appraisal of random and mutated evidence never accepts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyBytes, mutatedFrom(snpReports), mutatedFrom(nitroDocuments)),
        fc.option(fc.constantFrom(...endorsements), { nil: undefined }),
        async (evidence, endorsement) => {
          const verdict = await appraise(
            { evidence, endorsement },
            {
              at: new Date('2026-06-01T00:00:00Z'),
              policy: { allowDebug: true, allowUncheckedRevocation: true },
            },
          );
          return verdict.verdict === 'reject' && !verdict.codes.includes('INTERNAL_ERROR');
        },
      ),
      budget(400),
    );
  });

  it('Oblivious HTTP requests and sealed models', () => {
    const enclave = generateEnclaveKeyPair();
    const { encapsulated: sealed } = sealInferenceRequest(enclave.publicKey, {
      prompt: 'fuzz',
      salt: new Uint8Array(32),
      nonce: new Uint8Array(32),
    });
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedFrom([sealed])), (bytes) =>
        typedOnly(() => openInferenceRequest(enclave, bytes)),
      ),
      budget(1000),
    );
    const model = sealModel({
      model: new Uint8Array(64),
      dataKey: new Uint8Array(32),
      keyId: 'arn:aws:kms:eu-west-1:111122223333:key/fuzz',
      encryptedKey: new Uint8Array(32),
    });
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedFrom([model])), (bytes) =>
        typedOnly(() => parseSealedModel(bytes)),
      ),
      budget(1000),
    );
  });

  it('receipts: any string, and signed claims of any shape from the pinned key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const verifier = {
      issuer: 'https://verifier.example',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] },
    };
    const at = new Date('2026-11-29T12:00:00Z');
    const jwsLike = fc
      .tuple(json, json, fc.base64String({ maxLength: 100 }))
      .map(([header, payload, signature]) =>
        [header, payload]
          .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
          .concat(signature)
          .join('.'),
      );
    const claimNames = ['typ', 'iss', 'iat', 'jti', 'tee', 'log', 'model_hash', 'policy', 'x'];
    const signedClaims = fc.record({
      claims: fc.dictionary(fc.constantFrom(...claimNames), json),
      typ: fc.constantFrom('veritee.receipt/v1', 'veritee.checkpoint/v1', 'x'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), jwsLike),
        fc.array(fc.string({ maxLength: 70 }), { maxLength: 3 }),
        async (receipt, inclusionPath) =>
          typedOnlyAsync(() => {
            peekJwsClaims(receipt);
            return verifyReceipt({ receipt, verifier, checkpoint: receipt, inclusionPath, at });
          }),
      ),
      budget(500),
    );
    await fc.assert(
      fc.asyncProperty(signedClaims, async ({ claims, typ }) => {
        const jws = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ })
          .sign(privateKey);
        return typedOnlyAsync(() =>
          verifyReceipt({ receipt: jws, verifier, checkpoint: jws, inclusionPath: [], at }),
        );
      }),
      budget(300),
    );
  });

  it('signed notes, checkpoints, note keys, tile paths and entry bundles', () => {
    const log = noteSignerFromSeed(
      'fuzz.example/log',
      NOTE_SIGNATURE_ED25519,
      new Uint8Array(32).fill(7),
    );
    const note = signNote(
      formatCheckpoint({ origin: log.name, size: 5, rootHash: new Uint8Array(32), extensions: [] }),
      [log],
    );
    const noteBytes = new TextEncoder().encode(note);
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.constant(note)),
        fc.oneof(anyBytes, mutatedFrom([noteBytes])),
        (text, bytes) =>
          typedOnly(() => openNote(text, [log])) &&
          typedOnly(() => parseCheckpoint(openNote(bytes, [log]).text)) &&
          typedOnly(() => parseCheckpoint(text)) &&
          typedOnly(() => parseNoteVerifier(text)) &&
          typedOnly(() => parseNoteSignerKey(text)) &&
          typedOnly(() => parseTilePath(text)) &&
          typedOnly(() => decodeEntryBundle(bytes)),
      ),
      budget(2000),
    );
  });

  it('policies, reference values, JWKS, config files and wire answers from any JSON', () => {
    fc.assert(
      fc.property(
        json,
        (value) =>
          typedOnly(() => parsePolicy(value)) &&
          typedOnly(() => parseReferenceValue(value)) &&
          typedOnly(() => parseJwks(value)) &&
          typedOnly(() => mergeSettings(value, {}, ['VERITEE_LISTEN'])) &&
          typedOnly(() => parseEnclaveAnswer(value)) &&
          typedOnly(() => parseHostAnswer(value)) &&
          typedOnly(() => parseReceiptBundle(JSON.stringify(value))) &&
          typedOnly(() =>
            parseReceiptBundle(
              JSON.stringify({ format: 'veritee.receipt-bundle/v1', ...(value as object) }),
            ),
          ),
      ),
      budget(3000),
    );
  });
});
