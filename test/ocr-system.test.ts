/**
 * A private document image read in the enclave, over real HTTP between real
 * processes: the enclave runs the bundled PaddleOCR recogniser
 * (VERITEE_BUNDLED_MODEL=ocr); the client seals the image, checks the answer's
 * binding to the image it sent, and checks the verifier's receipt.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { commitInput, inputCommitmentBytes } from '@veritee/attestations/wire';
import { fromHex, toHex } from '@veritee/attestations';
import { createClient, type Client } from '@veritee/client';
import { bundledModelHash, GENERIC_MODELS } from '@veritee/enclave';
import { startSystem, type System, createHome, EPHEMERAL_PORTS } from '@veritee/mock/system';
import { trustWithDev } from '@veritee/mock';
import { runCli } from '@veritee/mock/cli';

const IMAGE = join(import.meta.dirname, '..', 'enclave', 'test', 'fixtures', 'ocr-line.png');

describe('OCR of a private image, attested and receipted', () => {
  let system: System;
  let client: Client;
  const home = createHome();

  before(async () => {
    system = await startSystem({
      home,
      mode: 'source',
      ports: EPHEMERAL_PORTS,
      env: { enclave: { VERITEE_BUNDLED_MODEL: 'ocr' } },
    });
    client = createClient({
      host: system.host.url,
      verifier: system.verifier.url,
      trust: trustWithDev,
      policy: { models: [await bundledModelHash(GENERIC_MODELS.ocr)], allowSimulated: true },
    });
  });
  after(async () => {
    await system.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('reads the image, binds the answer to it, and logs a receipt that verifies', async () => {
    const input = { image: readFileSync(IMAGE).toString('base64') };
    const result = await client.infer(input);
    const answer = JSON.parse(result.output) as { text: string; confidence: number };
    assert.equal(answer.text.trim(), 'Invoice 4711 paid in full');
    assert.equal(result.verified.modelHash, await bundledModelHash(GENERIC_MODELS.ocr));
    // Whoever holds the image and the salt recomputes the commitment the quote binds.
    assert.equal(
      result.verified.inputCommitment,
      toHex(commitInput(fromHex(result.salt)!, inputCommitmentBytes(input))),
    );
    assert.ok(result.receipt?.checked, 'the receipt was checked against the verifier');
    assert.equal(result.receipt.checked.claims.input_commitment, result.verified.inputCommitment);
  });

  it('veritee infer --image reads the same image and prints the checked answer', async () => {
    const { status, stdout, stderr } = await runCli(
      [
        'infer',
        '--host',
        system.host.url,
        '--verifier',
        system.verifier.url,
        '--allow-simulated',
        '--model',
        await bundledModelHash(GENERIC_MODELS.ocr),
        '--image',
        IMAGE,
        '--json',
      ],
      { VERITEE_HOME: home },
    );
    assert.equal(status, 0, stderr);
    const printed = JSON.parse(stdout) as { output: string; receiptChecked: boolean };
    assert.equal(
      (JSON.parse(printed.output) as { text: string }).text.trim(),
      'Invoice 4711 paid in full',
    );
    assert.equal(printed.receiptChecked, true);
  });

  it('answers a request this model cannot take with MODEL_INPUT_INVALID, passed on by the host', async () => {
    await assert.rejects(
      client.infer('a prompt, not an image'),
      (error: unknown) =>
        (error as { code?: string }).code === 'CLIENT_UPSTREAM_FAILED' &&
        /answered 400 \(MODEL_INPUT_INVALID\)/.test((error as Error).message),
    );
  });
});
