import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EvidenceError } from '../../src/index.js';
import {
  findCert,
  parseSnpCertTable,
  serializeSnpCertTable,
  SNP_CERT_GUIDS,
} from '../../src/snp/index.js';

const entries = [
  { guid: SNP_CERT_GUIDS.VCEK, data: new Uint8Array([1, 2, 3]) },
  { guid: SNP_CERT_GUIDS.ASK, data: new Uint8Array([4, 5]) },
  { guid: SNP_CERT_GUIDS.ARK, data: new Uint8Array([6]) },
  { guid: '00112233-4455-6677-8899-aabbccddeeff', data: new Uint8Array([7]) },
];

function assertMalformed(bytes: Uint8Array): void {
  assert.throws(
    () => parseSnpCertTable(bytes),
    (error: unknown) => error instanceof EvidenceError && error.code === 'SNP_CERT_TABLE_MALFORMED',
  );
}

describe('parseSnpCertTable', () => {
  it('round-trips a table and names the GUIDs it knows', () => {
    const parsed = parseSnpCertTable(serializeSnpCertTable(entries));
    assert.deepEqual(
      parsed.map((entry) => entry.kind),
      ['VCEK', 'ASK', 'ARK', undefined],
    );
    assert.deepEqual(
      parsed.map((entry) => [...entry.data]),
      [[1, 2, 3], [4, 5], [6], [7]],
    );
    assert.deepEqual([...(findCert(parsed, 'ASK') ?? [])], [4, 5]);
    assert.equal(findCert(parsed, 'VLEK'), undefined);
  });

  it('writes GUIDs in RFC 4122 byte order', () => {
    const bytes = serializeSnpCertTable(entries.slice(0, 1));
    assert.equal(
      Buffer.from(bytes.subarray(0, 16)).toString('hex'),
      '63da758de6644564adc5f4b93be8accd',
    );
  });

  it('allows padding after the data, as the kernel returns a whole buffer', () => {
    const bytes = serializeSnpCertTable(entries);
    const padded = new Uint8Array(bytes.length + 4096);
    padded.set(bytes);
    assert.equal(parseSnpCertTable(padded).length, 4);
  });

  it('rejects a table without its terminating entry', () => {
    const bytes = serializeSnpCertTable(entries.slice(0, 1));
    assertMalformed(bytes.subarray(0, 24));
    assertMalformed(new Uint8Array(0));
  });

  it('rejects an entry that points outside the table', () => {
    const bytes = serializeSnpCertTable(entries.slice(0, 1));
    new DataView(bytes.buffer).setUint32(20, 1000, true);
    assertMalformed(bytes);
  });

  it('rejects an empty entry, a repeated GUID and overlapping data', () => {
    const empty = serializeSnpCertTable(entries.slice(0, 1));
    new DataView(empty.buffer).setUint32(20, 0, true);
    assertMalformed(empty);
    assertMalformed(serializeSnpCertTable([entries[0]!, entries[0]!]));
    const overlapping = serializeSnpCertTable(entries.slice(0, 2));
    new DataView(overlapping.buffer).setUint32(16, 0, true);
    assertMalformed(overlapping);
  });
});
