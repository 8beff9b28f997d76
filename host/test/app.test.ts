import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseEnclaveAnswer, parseHostAnswer } from '@veritee/attestations/wire';
import { enclaveAnswer, json, startHost, startStandIn } from './stand-ins.js';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function system(
  options: Parameters<typeof startHost>[0] extends infer O ? Partial<O> : never = {},
) {
  const enclave = await startStandIn((request, _body, response) => {
    if (request.url === '/livez') return json(response, 200, { status: 'ok' });
    json(response, 200, enclaveAnswer());
  });
  const verifier = await startStandIn((request, _body, response) => {
    if (request.url === '/livez') return json(response, 200, { status: 'ok' });
    json(response, 201, { id: 'receipt-1', receipt: 'aGVhZA.Ym9keQ.c2ln', log: { index: 4 } });
  });
  const host = await startHost({ enclave: enclave.url, verifier: verifier.url, ...options });
  closers.push(enclave.close, verifier.close, host.close);
  return { enclave, verifier, host };
}

const sealed = () => randomBytes(200);
const post = (
  url: string,
  body: Uint8Array,
  type = 'message/ohttp-req',
  accept = 'application/json',
) => fetch(`${url}/v1/infer`, { method: 'POST', headers: { 'content-type': type, accept }, body });

describe('host', () => {
  describe('POST /v1/infer', () => {
    it('relays the sealed bytes unchanged and attaches the receipt', async () => {
      const { enclave, verifier, host } = await system();
      const request = sealed();
      const response = await post(host.url, request);
      assert.equal(response.status, 200);
      const answer = parseHostAnswer(await response.json());
      assert.deepEqual(enclave.received[0], request);
      assert.deepEqual(answer.receipt, { id: 'receipt-1', jws: 'aGVhZA.Ym9keQ.c2ln', logIndex: 4 });
      // The verifier gets the quote and the binding, never the sealed bytes.
      const asked = JSON.parse(verifier.received[0]!.toString('utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(asked).sort(), ['binding', 'evidence']);
    });

    it('answers an Oblivious HTTP client that did not ask for JSON as RFC 9458 has it, the receipt in headers', async () => {
      const { enclave, host } = await system();
      const answered = enclaveAnswer();
      enclave.set((_request, _body, response) => json(response, 200, answered));
      for (const accept of ['message/ohttp-res', '*/*']) {
        const response = await post(host.url, sealed(), 'message/ohttp-req', accept);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'message/ohttp-res');
        assert.deepEqual(
          new Uint8Array(await response.arrayBuffer()),
          parseEnclaveAnswer(answered).sealed,
        );
        assert.equal(response.headers.get('veritee-receipt-id'), 'receipt-1');
        assert.equal(response.headers.get('veritee-receipt'), 'aGVhZA.Ym9keQ.c2ln');
      }
    });

    it("asks for the receipts of a batch's answers in one request, each answer getting its own", async () => {
      const { enclave, verifier, host } = await system();
      const evidence = randomBytes(1184);
      const batchOf = (size: number) =>
        Array.from({ length: size }, (_, index) => ({
          ...enclaveAnswer(),
          evidence: evidence.toString('base64'),
          inclusion: { index, size, path: ['00'.repeat(32), '11'.repeat(32)] },
        }));
      let answers = batchOf(3);
      enclave.set((_request, _body, response) => json(response, 200, answers.shift()));
      verifier.set((request, body, response) => {
        assert.equal(request.url, '/v1/receipts/batch');
        const { items } = JSON.parse(body.toString('utf8')) as {
          items: Array<{ inclusion: { index: number } }>;
        };
        json(response, 201, {
          receipts: items.map(({ inclusion: { index } }) =>
            index === 1
              ? { problem: { status: 422, code: 'RECEIPT_BINDING_MISMATCH' } }
              : { id: `receipt-${index}`, receipt: 'aGVhZA.Ym9keQ.c2ln', log: { index } },
          ),
        });
      });
      const relayed = async () => parseHostAnswer(await (await post(host.url, sealed())).json());
      const three = await Promise.all([relayed(), relayed(), relayed()]);
      assert.equal(verifier.received.length, 1, 'one request for the three receipts');
      for (const answer of three) {
        const index = answer.answer.inclusion?.index;
        if (index === 1) assert.equal(answer.receiptError, 'RECEIPT_BINDING_MISMATCH');
        else assert.equal(answer.receipt?.id, `receipt-${index}`);
      }
      // Two answers of a batch of three: sent once the window has passed.
      answers = batchOf(3).filter((answer) => answer.inclusion.index !== 1);
      const two = await Promise.all([relayed(), relayed()]);
      assert.equal(verifier.received.length, 2);
      const asked = JSON.parse(verifier.received[1]!.toString('utf8')) as { items: unknown[] };
      assert.equal(asked.items.length, 2);
      assert.deepEqual(two.map((answer) => answer.receipt?.id).sort(), ['receipt-0', 'receipt-2']);
      // A refused quote refuses every answer of the batch, each saying why.
      answers = batchOf(2);
      verifier.set((_request, _body, response) =>
        json(response, 422, { code: 'RECEIPT_EVIDENCE_REJECTED' }),
      );
      for (const answer of await Promise.all([relayed(), relayed()]))
        assert.equal(answer.receiptError, 'RECEIPT_EVIDENCE_REJECTED');
      assert.equal(verifier.received.length, 3);
    });

    it('says why there is no receipt when the verifier refuses', async () => {
      const { verifier, host } = await system();
      verifier.set((_request, _body, response) =>
        json(response, 422, { code: 'RECEIPT_EVIDENCE_REJECTED', codes: ['POLICY_DEBUG_ENABLED'] }),
      );
      const answer = parseHostAnswer(await (await post(host.url, sealed())).json());
      assert.equal(answer.receipt, undefined);
      assert.equal(answer.receiptError, 'RECEIPT_EVIDENCE_REJECTED');
    });

    it('still answers, without a receipt, when the verifier is down', async () => {
      const { verifier, host } = await system();
      await verifier.close();
      const response = await post(host.url, sealed());
      assert.equal(response.status, 200);
      const answer = parseHostAnswer(await response.json());
      assert.equal(answer.receiptError, 'HOST_UPSTREAM_UNREACHABLE');
    });

    it('refuses a body over the limit with 413 and never relays it', async () => {
      const { enclave, host } = await system({ maxBodyBytes: 1024 });
      const response = await post(host.url, randomBytes(4096));
      assert.equal(response.status, 413);
      assert.equal(((await response.json()) as { code: string }).code, 'REQUEST_TOO_LARGE');
      assert.equal(enclave.received.length, 0);
    });

    it('refuses anything but message/ohttp-req with 415', async () => {
      const { host } = await system();
      const response = await post(host.url, sealed(), 'application/json');
      assert.equal(response.status, 415);
      assert.equal(
        ((await response.json()) as { code: string }).code,
        'REQUEST_MEDIA_TYPE_UNSUPPORTED',
      );
    });

    it('answers 429 with Retry-After when in-flight and queued requests are at their limits', async () => {
      const { enclave, host } = await system({ maxInFlight: 1, maxQueue: 1 });
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      enclave.set(async (_request, _body, response) => {
        await held;
        json(response, 200, enclaveAnswer());
      });
      const running = post(host.url, sealed());
      const queued = post(host.url, sealed());
      // Wait until the enclave holds the first; the second then waits in the queue.
      while (enclave.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const refused = await post(host.url, sealed());
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(((await refused.json()) as { code: string }).code, 'HOST_BUSY');
      // The attestation route takes a slot like inference does.
      assert.equal((await fetch(`${host.url}/v1/attestation`)).status, 429);
      // A refused upload is not read: the enclave never sees a third body.
      const big = await post(host.url, new Uint8Array(4000).fill(1));
      assert.equal(big.status, 429);
      release();
      assert.equal((await running).status, 200);
      assert.equal((await queued).status, 200);
      assert.equal(enclave.received.length, 2);
    });

    it("passes the enclave's refusal of a bad request through with its code", async () => {
      const { enclave, host } = await system();
      enclave.set((_request, _body, response) =>
        json(response, 400, { code: 'OHTTP_OPEN_FAILED', detail: 'x' }),
      );
      const response = await post(host.url, sealed());
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { code: string }).code, 'OHTTP_OPEN_FAILED');
    });

    it('answers 504 when the enclave does not answer in time', async () => {
      const { enclave, host } = await system({ timeoutMs: 200 });
      enclave.set(() => undefined);
      const response = await post(host.url, sealed());
      assert.equal(response.status, 504);
      assert.equal(((await response.json()) as { code: string }).code, 'HOST_UPSTREAM_TIMEOUT');
    });

    it('answers 502 when the enclave sends something that is not an answer', async () => {
      const { enclave, host } = await system();
      enclave.set((_request, _body, response) => json(response, 200, { format: 'other' }));
      const response = await post(host.url, sealed());
      assert.equal(response.status, 502);
      assert.equal(((await response.json()) as { code: string }).code, 'ANSWER_MALFORMED');
    });

    it('answers 502 when the enclave is unreachable', async () => {
      const { enclave, host } = await system();
      await enclave.close();
      const response = await post(host.url, sealed());
      assert.equal(response.status, 502);
      assert.equal(((await response.json()) as { code: string }).code, 'HOST_UPSTREAM_UNREACHABLE');
    });
  });

  describe('health, readiness and metrics', () => {
    it('is ready only when the enclave and the verifier are', async () => {
      const { verifier, host } = await system();
      assert.equal((await fetch(`${host.url}/readyz`)).status, 200);
      await verifier.close();
      const response = await fetch(`${host.url}/readyz`);
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), {
        status: 'not ready',
        enclave: true,
        verifier: false,
      });
    });

    it('counts requests and receipt outcomes in Prometheus text format', async () => {
      const { host } = await system();
      await post(host.url, sealed());
      const text = await (await fetch(`${host.url}/metrics`)).text();
      assert.match(text, /veritee_host_requests_total\{route="\/v1\/infer",status="200"\} 1/);
      assert.match(text, /veritee_host_receipts_total\{outcome="issued"\} 1/);
      assert.match(text, /veritee_host_in_flight 0/);
    });
  });

  describe('logs', () => {
    it('write allow-listed fields only: no body, header or query', async () => {
      const { host } = await system();
      const marker = randomBytes(16).toString('hex');
      await post(host.url, new TextEncoder().encode(`secret-${marker}`));
      await fetch(`${host.url}/v1/attestation?q=${marker}`, { headers: { 'x-note': marker } });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(host.lines.length >= 2);
      for (const line of host.lines) {
        assert.ok(!line.includes(marker), 'a log line holds request data');
        const fields = Object.keys(JSON.parse(line) as object);
        for (const field of fields)
          assert.ok(
            [
              'time',
              'level',
              'service',
              'msg',
              'method',
              'route',
              'status',
              'durationMs',
              'requestId',
              'code',
              'receipt',
            ].includes(field),
            field,
          );
      }
    });
  });
});
