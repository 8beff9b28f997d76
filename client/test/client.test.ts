import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError, ConfigError, isVeriteeError, toHex } from '@veritee/attestations';
import { createClient, Refused, type ClientPolicy } from '../src/index.js';
import { trustWithDev } from '@veritee/mock';
import { SIM_DEFAULT_MEASUREMENT } from '@veritee/attestations/sim';
import { MODEL_HASH, standInModel, startFakeHost, type Misbehaviour } from '@veritee/mock/host';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createInlineAppraiser,
  createVerifier,
  openLocalSigner,
  openSqliteLog,
} from '@veritee/verifier';

// The fake host has no verifier: these tests name no approvals (the approval tests below do).
const policy: ClientPolicy = {
  models: [toHex(MODEL_HASH)],
  allowSimulated: true,
  measurements: 'any',
};
const hosts: Array<{ close: () => Promise<void> }> = [];
after(async () => {
  await Promise.all(hosts.map((host) => host.close()));
});

async function clientFor(misbehaviour: Misbehaviour = {}, overrides: Partial<ClientPolicy> = {}) {
  const host = await startFakeHost(misbehaviour);
  hosts.push(host);
  return createClient({ host: host.url, trust: trustWithDev, policy: { ...policy, ...overrides } });
}

async function refusal(promise: Promise<unknown>): Promise<Refused> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof Refused, `expected Refused, got ${String(error)}`);
  return error;
}

describe('createClient', () => {
  it('refuses a policy without an allowed model', () => {
    assert.throws(
      () => createClient({ host: 'http://127.0.0.1:1', policy: { models: [] } }),
      (error: unknown) => error instanceof ConfigError && error.code === 'CONFIG_INVALID',
    );
  });

  describe('when the enclave is honest', () => {
    it("returns the model's output with what was verified", async () => {
      const client = await clientFor();
      const result = await client.infer('a private prompt');
      assert.equal(result.output, new TextDecoder().decode(standInModel('a private prompt')));
      assert.equal(result.verified.tee, 'sev-snp');
      assert.equal(result.verified.simulated, true);
      assert.equal(result.verified.modelHash, toHex(MODEL_HASH));
      assert.equal(result.receipt, undefined);
    });

    it('uses a fresh salt and nonce for every request', async () => {
      const client = await clientFor();
      const [one, two] = await Promise.all([client.infer('same'), client.infer('same')]);
      assert.notEqual(one.salt, two.salt);
      assert.notEqual(one.verified.inputCommitment, two.verified.inputCommitment);
    });
  });

  describe('when it must refuse', () => {
    it('refuses evidence from a model the policy does not list', async () => {
      const client = await clientFor({ modelHash: new Uint8Array(32).fill(7) });
      const error = await refusal(client.infer('prompt'));
      assert.equal(error.code, 'CLIENT_MODEL_UNEXPECTED');
    });

    it('refuses a debug enclave under the default evidence policy', async () => {
      const client = await clientFor({ debug: true });
      const error = await refusal(client.infer('prompt'));
      assert.equal(error.code, 'CLIENT_EVIDENCE_REJECTED');
      assert.ok(error.codes.includes('POLICY_DEBUG_ENABLED'), error.codes.join(' '));
    });

    it('refuses a simulated enclave unless the policy allows it', async () => {
      const client = await clientFor({}, { allowSimulated: false });
      const error = await refusal(client.infer('prompt'));
      assert.equal(error.code, 'CLIENT_SIMULATED_REFUSED');
    });

    it('refuses simulated evidence when the dev roots are not trusted', async () => {
      const host = await startFakeHost();
      hosts.push(host);
      const client = createClient({ host: host.url, policy });
      const error = await refusal(client.infer('prompt'));
      assert.equal(error.code, 'CLIENT_EVIDENCE_REJECTED');
    });

    it('refuses stale standing evidence', async () => {
      const client = await clientFor({ evidenceAgeMs: 3_600_000 });
      const error = await refusal(client.enclave());
      assert.equal(error.code, 'CLIENT_EVIDENCE_STALE');
    });

    it('refuses a replayed answer to an earlier request', async () => {
      const client = await clientFor({ replay: true });
      await client.infer('first prompt');
      // The replay was sealed for another request, so it does not even open.
      const error = await client.infer('second prompt').then(
        () => assert.fail('expected a refusal'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof ChainError);
      assert.equal(error.code, 'OHTTP_OPEN_FAILED');
    });

    it('refuses a tampered sealed output', async () => {
      const client = await clientFor({
        tamper: (answer) => {
          const sealed = Buffer.from(String(answer['sealed']), 'base64');
          sealed.writeUInt8(sealed.readUInt8(sealed.length - 1) ^ 1, sealed.length - 1);
          answer['sealed'] = sealed.toString('base64');
        },
      });
      const error = await client.infer('prompt').then(
        () => assert.fail('expected a refusal'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof ChainError);
      assert.equal(error.code, 'OHTTP_OPEN_FAILED');
    });

    for (const field of ['outputHash', 'inputCommitment', 'nonce', 'modelHash', 'enclaveKey']) {
      it(`refuses an answer whose binding names another ${field}`, async () => {
        const client = await clientFor({
          tamper: (answer) => {
            const binding = answer['binding'] as Record<string, string>;
            const value = binding[field] ?? '';
            binding[field] = `${value.slice(0, -1)}${value.endsWith('0') ? '1' : '0'}`;
          },
        });
        const error = await refusal(client.infer('prompt'));
        assert.equal(error.code, 'CLIENT_BINDING_MISMATCH');
      });
    }

    it('refuses an answer whose quote does not vouch for its binding (a stale quote)', async () => {
      let earlier: unknown;
      const client = await clientFor({
        tamper: (answer) => {
          // Keep the first quote and attach it to every later answer.
          earlier ??= answer['evidence'];
          answer['evidence'] = earlier;
        },
      });
      await client.infer('first');
      const error = await refusal(client.infer('second'));
      assert.equal(error.code, 'CLIENT_BINDING_MISMATCH');
    });
  });

  describe('when receipts are checked', () => {
    it('accepts a receipt from the verifier it was given, and refuses one a host got from another', async () => {
      const [trusted, forger] = [await startVerifier(), await startVerifier()];
      for (const [receiptsFrom, refused] of [
        [trusted.url, false],
        [forger.url, true],
      ] as const) {
        const host = await startFakeHost({ receiptsFrom });
        hosts.push(host);
        const client = createClient({
          host: host.url,
          verifier: trusted.url,
          trust: trustWithDev,
          policy,
        });
        if (!refused) {
          const result = await client.infer('a private prompt');
          assert.equal(result.receipt?.checked?.issuer, trusted.url);
          continue;
        }
        await assert.rejects(
          client.infer('a private prompt'),
          (error: unknown) =>
            error instanceof ChainError && error.code === 'RECEIPT_ISSUER_UNTRUSTED',
        );
      }
    });
  });

  describe('when the receipt comes with its checkpoint and inclusion path', () => {
    it('checks them against the verifier it was given: a relay cannot forge them', async () => {
      const verifier = await startVerifier();
      const tampers: [string, NonNullable<Misbehaviour['tamperInclusion']>][] = [
        [
          'a path hash changed',
          (inclusion) => {
            inclusion.path[0] = '00'.repeat(32);
          },
        ],
        [
          "a character of the checkpoint's signature changed",
          (inclusion) => {
            const at = inclusion.note.trimEnd().length - 2;
            const flipped = inclusion.note[at] === 'A' ? 'B' : 'A';
            inclusion.note = inclusion.note.slice(0, at) + flipped + inclusion.note.slice(at + 1);
          },
        ],
      ];
      // Receipts before, so that the next one's path is not empty.
      const honest = await startFakeHost({ receiptsFrom: verifier.url });
      hosts.push(honest);
      const client = (host: { url: string }) =>
        createClient({ host: host.url, verifier: verifier.url, trust: trustWithDev, policy });
      await client(honest).infer('first');
      await client(honest).infer('second');
      for (const [label, tamperInclusion] of tampers) {
        const host = await startFakeHost({ receiptsFrom: verifier.url, tamperInclusion });
        hosts.push(host);
        await assert.rejects(
          client(host).infer('a private prompt'),
          (error: unknown) =>
            isVeriteeError(error) && /^RECEIPT_|^CHECKPOINT_|^NOTE_/.test(error.code),
          label,
        );
      }
      const result = await client(honest).infer('untouched');
      assert.ok(result.receipt?.checked, 'an untouched one checks');
    });
  });

  describe('when the enclave must be approved in the verifier log', () => {
    const approvedPolicy: ClientPolicy = { models: [toHex(MODEL_HASH)], allowSimulated: true };
    const register = async (verifier: TestVerifier, reference: Record<string, string>) => {
      const response = await fetch(`${verifier.url}/v1/admin/reference-values`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ action: 'register', reference: { tee: 'sev-snp', ...reference } }),
      });
      assert.equal(response.status, 201);
    };
    const measurement = toHex(SIM_DEFAULT_MEASUREMENT);
    /** A fake host with receipts from `verifier`, and a client that needs approvals from it. */
    async function approvingClient(verifier: TestVerifier) {
      const host = await startFakeHost({ receiptsFrom: verifier.url });
      hosts.push(host);
      const client = createClient({
        host: host.url,
        verifier: verifier.url,
        trust: trustWithDev,
        policy: approvedPolicy,
      });
      return { host, client };
    }

    it('refuses an unapproved measurement or model before any prompt is sealed', async () => {
      for (const reference of [
        { measurement: 'ab'.repeat(48) },
        { measurement, modelHash: '77'.repeat(32) },
      ]) {
        const verifier = await startVerifier();
        await register(verifier, reference);
        const { host, client } = await approvingClient(verifier);
        const error = await refusal(client.infer('a private prompt'));
        assert.equal(
          error.code,
          reference.modelHash === undefined
            ? 'CLIENT_MEASUREMENT_NOT_APPROVED'
            : 'CLIENT_MODEL_NOT_APPROVED',
        );
        assert.ok(error.message.includes(measurement), 'the refusal names the measurement');
        assert.deepEqual(host.requests, ['/v1/attestation'], 'nothing was sent to be inferred');
      }
    });

    it('sends to an approved enclave, and says what approved it', async () => {
      const verifier = await startVerifier();
      await register(verifier, { measurement, modelHash: toHex(MODEL_HASH) });
      const { client } = await approvingClient(verifier);
      const result = await client.infer('a private prompt');
      assert.equal(result.verified.approval, 'approved in the verifier log');
    });

    it('runs a simulated development setup with nothing registered, and says so', async () => {
      const verifier = await startVerifier();
      const { host, client } = await approvingClient(verifier);
      const result = await client.infer('a private prompt');
      assert.equal(result.verified.approval, 'none registered (simulated development setup)');
      assert.throws(
        () => createClient({ host: host.url, trust: trustWithDev, policy: approvedPolicy }),
        (error: unknown) => error instanceof ConfigError && error.code === 'CONFIG_INVALID',
        'approvals need a verifier to come from',
      );
    });
  });
});

const ADMIN_TOKEN = 'a'.repeat(40);
interface TestVerifier {
  readonly url: string;
  close(): Promise<void>;
}
const verifiers: TestVerifier[] = [];
after(async () => {
  await Promise.all(verifiers.map((verifier) => verifier.close()));
});

/** A verifier over real HTTP with keys, a log and an admin API of its own. */
async function startVerifier(): Promise<TestVerifier> {
  const dir = await mkdtemp(join(tmpdir(), 'veritee-client-verifier-'));
  const log = openSqliteLog(join(dir, 'log.db'));
  const server: Server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { app } = await createVerifier({
    log,
    signer: await openLocalSigner(join(dir, 'keys'), () => new Date()),
    appraiser: createInlineAppraiser({ trust: trustWithDev, allowSimulated: true }),
    issuer: url,
    basePolicy: { id: 'p', version: 1, policy: {} },
    adminToken: ADMIN_TOKEN,
    clock: () => new Date(),
  });
  server.on('request', app);
  const verifier = {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await log.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  verifiers.push(verifier);
  return verifier;
}
