/**
 * A host and enclave in one test double, over real HTTP: it opens Oblivious
 * HTTP requests with a real enclave key, "runs" a stand-in model, quotes with the
 * simulator under the committed test dev PKI, and can misbehave on demand.
 */
import { createServer, type Server } from 'node:http';
import {
  committedInput,
  generateEnclaveKeyPair,
  openInferenceRequest,
} from '@veritee/attestations/seal';
import {
  bindingDigest,
  enclaveAnswerToJson,
  enclaveEvidenceToJson,
  hashOutput,
  commitInput,
  hostAnswerToJson,
  identityDigest,
  sha256,
  type Binding,
} from '@veritee/attestations/wire';
import { simulator } from '../sim-fixture.js';

export const MODEL_HASH = sha256(new TextEncoder().encode('stand-in model'));

export interface Misbehaviour {
  /** Claim and bind another model. */
  modelHash?: Uint8Array;
  /** Quote with the guest policy's debug bit set. */
  debug?: boolean;
  /** Issue standing evidence this long ago. */
  evidenceAgeMs?: number;
  /** Answer every request with the first answer it gave. */
  replay?: boolean;
  /** Rewrite the answer JSON before sending it. */
  tamper?: (answer: Record<string, unknown>) => void;
  /** Attach receipts from the verifier at this URL, whichever the client trusts. Default none. */
  receiptsFrom?: string;
  /** Rewrite the receipt's attached checkpoint and inclusion path before sending them. */
  tamperInclusion?: (inclusion: { size: number; path: string[]; note: string }) => void;
}

/** The stand-in model: upper-cases the prompt. */
export const standInModel = (prompt: string) => new TextEncoder().encode(prompt.toUpperCase());

export async function startFakeHost(misbehaviour: Misbehaviour = {}) {
  const keyPair = generateEnclaveKeyPair();
  const modelHash = misbehaviour.modelHash ?? MODEL_HASH;
  const quote = async (reportData: Uint8Array) =>
    (await simulator.snp({ at: new Date(), reportData, debug: misbehaviour.debug ?? false }))
      .evidence;
  let first: string | undefined;
  /** Every request's path, in order. */
  const requests: string[] = [];

  async function receiptFor(answer: Record<string, unknown>) {
    if (misbehaviour.receiptsFrom === undefined) return { receiptError: 'HOST_RECEIPTS_OFF' };
    const response = await fetch(`${misbehaviour.receiptsFrom}/v1/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ evidence: answer['evidence'], binding: answer['binding'] }),
    });
    const issued = (await response.json()) as {
      id: string;
      receipt: string;
      log: { index: number; inclusion?: { size: number; path: string[]; note: string } };
    };
    const { inclusion } = issued.log;
    if (inclusion !== undefined) misbehaviour.tamperInclusion?.(inclusion);
    return {
      receipt: {
        id: issued.id,
        jws: issued.receipt,
        logIndex: issued.log.index,
        ...(inclusion === undefined ? {} : { inclusion }),
      },
    };
  }

  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        let body: Record<string, unknown>;
        if (request.url === '/v1/attestation') {
          const issuedAt = new Date(Date.now() - (misbehaviour.evidenceAgeMs ?? 0));
          body = enclaveEvidenceToJson({
            tee: 'sev-snp',
            simulated: true,
            evidence: await quote(
              identityDigest({ modelHash, enclaveKey: keyPair.publicKey, issuedAt }),
            ),
            modelHash,
            enclaveKey: keyPair.publicKey,
            issuedAt,
          });
        } else {
          const { request: opened, sealResult } = openInferenceRequest(
            keyPair,
            new Uint8Array(Buffer.concat(chunks)),
          );
          const output = standInModel(
            'prompt' in opened ? opened.prompt : JSON.stringify(opened.input),
          );
          const binding: Binding = {
            modelHash,
            inputCommitment: commitInput(opened.salt, committedInput(opened)),
            outputHash: hashOutput(output),
            nonce: opened.nonce,
            enclaveKey: keyPair.publicKey,
          };
          const evidence = await quote(bindingDigest(binding));
          const answer = enclaveAnswerToJson({
            sealed: sealResult({ output, evidence, binding }),
            evidence,
            binding,
          });
          misbehaviour.tamper?.(answer);
          body = hostAnswerToJson({ answer, ...(await receiptFor(answer)) });
        }
        let text = JSON.stringify(body);
        if (misbehaviour.replay === true && request.url === '/v1/infer') {
          first ??= text;
          text = first;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(text);
      })().catch(() => response.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
