/**
 * The verifier killed and restarted while the host streams answers: every
 * receipt the host attached to an answer is in the log afterwards; answers
 * relayed while the verifier was away say why they carry none, and the host's
 * log says so too. Real processes over real HTTP on 127.0.0.1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { sealInferenceRequest } from '@veritee/attestations/seal';
import { parseEnclaveEvidence } from '@veritee/attestations/wire';
import { startSystem, type System, createHome, EPHEMERAL_PORTS } from '@veritee/mock/system';

describe('a verifier restart under a stream of answers', () => {
  let system: System;
  const home = createHome();
  before(async () => {
    system = await startSystem({ home, mode: 'source', ports: EPHEMERAL_PORTS });
  });
  after(async () => {
    await system.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('loses no receipt the host reported as issued', async () => {
    const standing = parseEnclaveEvidence(
      await (await fetch(`${system.host.url}/v1/attestation`)).json(),
    );
    const answers: Array<{ receipt?: { id: string }; receiptError?: string }> = [];
    const send = async (index: number) => {
      const { encapsulated: sealed } = sealInferenceRequest(standing.enclaveKey, {
        prompt: `prompt ${index}`,
        salt: new Uint8Array(32).fill(index),
        nonce: new Uint8Array(32).fill(index),
      });
      const response = await fetch(`${system.host.url}/v1/infer`, {
        method: 'POST',
        headers: { 'content-type': 'message/ohttp-req', accept: 'application/json' },
        body: sealed,
      });
      assert.equal(response.status, 200, 'the host answers whether or not a receipt came');
      const answer = (await response.json()) as (typeof answers)[number];
      answers.push(answer);
      if (restarted && answer.receipt !== undefined) issuedSince += 1;
    };
    // Two streams of requests; the verifier is killed after the first ten and
    // back 1.5 s after, and the streams go on until five receipts came after
    // the restart (at most 300 requests in all).
    let next = 0;
    let restarted = false;
    let issuedSince = 0;
    const stream = async () => {
      while (next < 300 && issuedSince < 5) {
        await send(next++);
        await new Promise((resolveWait) => setTimeout(resolveWait, 40));
      }
    };
    const streams = [stream(), stream()];
    while (next < 10) await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    await system.restart('verifier', { signal: 'SIGKILL', downForMs: 1500 });
    restarted = true;
    await Promise.all(streams);

    const issued = answers.flatMap((answer) =>
      answer.receipt === undefined ? [] : [answer.receipt.id],
    );
    const without = answers.filter((answer) => answer.receipt === undefined);
    assert.equal(answers.length, next);
    assert.ok(without.length > 0, 'some answers were relayed while the verifier was away');
    // Away: unreachable (the host's code), or up but still loading its log (the verifier's own 503).
    for (const answer of without)
      assert.match(
        answer.receiptError ?? '',
        /^HOST_UPSTREAM_|^HOST_VERIFIER_|^VERIFIER_STARTING$/,
      );
    assert.ok(issuedSince >= 5, 'receipts are issued again after the restart');
    assert.ok(issued.length > issuedSince, 'receipts were issued before the restart too');
    for (const id of issued)
      assert.equal((await fetch(`${system.verifier.url}/v1/receipts/${id}`)).status, 200, id);
    const hostLog = readFileSync(system.host.logFile, 'utf8');
    assert.match(
      hostLog,
      /"code":"HOST_UPSTREAM_[A-Z_]+".*"receipt":"none"|"receipt":"none".*"code":"HOST_UPSTREAM_/,
    );
  });
});
