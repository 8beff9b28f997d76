/** A receipt request as clients post it: fresh simulated SEV-SNP evidence binding a random binding. */
import { bindingDigest, bindingToJson, type Binding } from '@veritee/attestations/wire';
import { randomBinding, simulator } from './sim-fixture.js';

/** The JSON body of `POST /v1/receipts`, quoted at `at`. */
export async function receiptRequestBody(
  at: Date,
  binding: Binding = randomBinding(),
): Promise<string> {
  const { evidence } = await simulator.snp({ at, reportData: bindingDigest(binding) });
  return JSON.stringify({
    evidence: Buffer.from(evidence).toString('base64'),
    binding: bindingToJson(binding),
  });
}
