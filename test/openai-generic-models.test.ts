/**
 * The OpenAI chat and embedding APIs over models other than the classifier:
 * the official `openai` package against `veritee proxy` for an enclave running
 * the bundled decoder (VERITEE_BUNDLED_MODEL=decoder), and in process through
 * `veriteeFetch` for one running the WordPiece embedding model. Each answer is
 * the model's own (run here from the same files), with a checked receipt.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import OpenAI from 'openai';
import { createClient, RECEIPT_HEADER, veriteeFetch } from '@veritee/client';
import { bundledModelHash, GENERIC_MODELS, loadModel } from '@veritee/enclave';
import { startCli, type RunningCli } from '@veritee/mock/cli';
import { startSystem, type System, createHome, EPHEMERAL_PORTS } from '@veritee/mock/system';
import { trustWithDev } from '@veritee/mock';

/** The model's own answer for an input, run in this process. */
async function ownAnswer(
  model: (typeof GENERIC_MODELS)[keyof typeof GENERIC_MODELS],
  input: Parameters<Awaited<ReturnType<typeof loadModel>>['infer']>[0],
): Promise<Record<string, unknown>> {
  const loaded = await loadModel({
    modelPath: model.path,
    configPath: model.configPath,
    expectedSha256: model.sha256,
  });
  try {
    return JSON.parse(new TextDecoder().decode(await loaded.infer(input))) as Record<
      string,
      unknown
    >;
  } finally {
    await loaded.close();
  }
}

describe('chat completions through veritee proxy (the bundled decoder)', () => {
  let system: System;
  let proxy: RunningCli;
  const home = createHome();

  before(async () => {
    system = await startSystem({
      home,
      mode: 'source',
      ports: EPHEMERAL_PORTS,
      env: { enclave: { VERITEE_BUNDLED_MODEL: 'decoder' } },
    });
    proxy = await startCli(
      [
        'proxy',
        '--listen',
        '127.0.0.1:0',
        '--host',
        system.host.url,
        '--verifier',
        system.verifier.url,
        '--allow-simulated',
        '--model',
        await bundledModelHash(GENERIC_MODELS.decoder),
        '--model-id',
        'veritee-decoder',
      ],
      { VERITEE_HOME: home },
    );
  });
  after(async () => {
    await proxy.stop();
    await system.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("answers with the model's own greedy text, its chat template applied, and a checked receipt", async () => {
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'the weather in the north' },
    ];
    const { data, response } = await openai.chat.completions
      .create({ model: 'veritee-decoder', messages, max_tokens: 12 })
      .withResponse();
    const own = await ownAnswer(GENERIC_MODELS.decoder, { messages, maxTokens: 12 });
    const [choice] = data.choices;
    assert.equal(choice?.message.content, own['text']);
    assert.equal(choice?.finish_reason, own['finishReason']);
    assert.equal(data.model, 'veritee-decoder');
    const veritee = (data as unknown as { veritee: Record<string, unknown> }).veritee;
    assert.equal(veritee['receiptChecked'], true);
    assert.equal(veritee['modelHash'], await bundledModelHash(GENERIC_MODELS.decoder));
    const receipt = response.headers.get(RECEIPT_HEADER) ?? '';
    assert.equal(
      (await fetch(`${system.verifier.url}/v1/receipts/${receipt}`)).status,
      200,
      'the receipt is in the log',
    );
  });

  it('refuses streaming, another model name, and embeddings this model cannot make', async () => {
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'hello' }];
    await assert.rejects(
      openai.chat.completions.create({ model: 'veritee-decoder', messages, stream: true }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError && error.code === 'REQUEST_FIELD_INVALID',
    );
    await assert.rejects(
      openai.chat.completions.create({ model: 'gpt-4o', messages }),
      (error: unknown) => error instanceof OpenAI.NotFoundError && error.code === 'MODEL_NOT_FOUND',
    );
    // The decoder takes the text but answers generated text, not a vector.
    await assert.rejects(
      openai.embeddings.create({ model: 'veritee-decoder', input: 'hello' }),
      (error: unknown) =>
        error instanceof OpenAI.APIError &&
        error.status === 502 &&
        error.code === 'MODEL_OUTPUT_UNEXPECTED',
    );
  });
});

describe('embeddings through veriteeFetch (the bundled WordPiece embedding model)', () => {
  let system: System;
  const home = createHome();

  before(async () => {
    system = await startSystem({
      home,
      mode: 'source',
      ports: EPHEMERAL_PORTS,
      env: { enclave: { VERITEE_BUNDLED_MODEL: 'embedding' } },
    });
  });
  after(async () => {
    await system.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('embeds each input as the model does, each with its receipt', async () => {
    const client = createClient({
      host: system.host.url,
      verifier: system.verifier.url,
      trust: trustWithDev,
      policy: { models: [await bundledModelHash(GENERIC_MODELS.embedding)], allowSimulated: true },
    });
    const openai = new OpenAI({
      apiKey: 'unused',
      baseURL: 'http://veritee.invalid/v1',
      fetch: veriteeFetch({ client, modelId: 'veritee-embedding' }),
      maxRetries: 0,
    });
    const inputs = ['private prompts stay private', 'the quick brown fox'];
    const { data, response } = await openai.embeddings
      .create({ model: 'veritee-embedding', input: inputs, encoding_format: 'float' })
      .withResponse();
    assert.equal(data.data.length, 2);
    for (const [index, text] of inputs.entries()) {
      const own = await ownAnswer(GENERIC_MODELS.embedding, { text });
      assert.deepEqual(data.data[index]?.embedding, own['embedding']);
    }
    assert.equal((response.headers.get(RECEIPT_HEADER) ?? '').split(',').length, 2);
    // The SDK's default asks for base64 float32 and decodes it: the same vector.
    const packed = await openai.embeddings.create({
      model: 'veritee-embedding',
      input: inputs[0]!,
    });
    assert.deepEqual(packed.data[0]?.embedding, data.data[0]?.embedding);
  });
});
