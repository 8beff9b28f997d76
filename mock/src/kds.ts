/**
 * A local stand-in for AMD KDS that speaks its URL scheme (KDS spec #57230,
 * section 4): it serves the real VCEKs of ../shared/vectors under the paths
 * AMD serves them at (computed from each report's chip id and reported TCB),
 * AMD's real certificate chains, and CRLs a test gives it; it counts every
 * request and answers 429 with a Retry-After when told to.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificate } from '@veritee/attestations/evidence';
import {
  parseSnpReport,
  productFromCpuid,
  SNP_REPORT_SIZE,
  type SnpProduct,
} from '@veritee/attestations/snp';
import { certChainPath, crlPath, vcekPath } from '@veritee/kds';
import { VECTORS_DIR, vectorFile, vectors, type Vector } from './vectors.js';

/** A real SEV-SNP vector whose VCEK the stand-in serves, and the path it serves it at. */
export interface ServedVcek {
  readonly vector: Vector;
  readonly product: SnpProduct;
  readonly path: string;
  /** The VCEK, DER. */
  readonly der: Uint8Array;
}

/** Every real vector signed by a VCEK, with the KDS path of its VCEK. */
export function servedVceks(): ServedVcek[] {
  return vectors.flatMap((vector) => {
    if (
      vector.format !== 'sev-snp' ||
      vector.endorsement === undefined ||
      vector.expect !== 'accept'
    )
      return [];
    const report = parseSnpReport(vectorFile(vector.evidence).subarray(0, SNP_REPORT_SIZE));
    const product =
      vector.product ?? (report.cpuid === undefined ? undefined : productFromCpuid(report.cpuid));
    if (report.signingKey !== 'VCEK' || product === undefined) return [];
    return [
      {
        vector,
        product,
        path: vcekPath(product, report.chipId, report.reportedTcb),
        der: parseCertificate(vectorFile(vector.endorsement)).der,
      },
    ];
  });
}

const CHAIN_FILES: Record<string, string> = {
  [certChainPath('Milan', 'VCEK')]: 'ask_ark_milan.pem',
  [certChainPath('Milan', 'VLEK')]: 'ask_ark_milan_vlek.pem',
  [certChainPath('Genoa', 'VCEK')]: 'ask_ark_genoa.pem',
  [certChainPath('Genoa', 'VLEK')]: 'ask_ark_genoa_vlek.pem',
  [certChainPath('Turin', 'VCEK')]: 'ask_ark_turin_vcek.pem',
  [certChainPath('Turin', 'VLEK')]: 'ask_ark_turin_vlek.pem',
};

export interface KdsStandIn {
  /** Its base URL, http://127.0.0.1:PORT. */
  readonly url: string;
  /** Every request's path and query, in order. */
  readonly requests: string[];
  /** Answer the next `count` requests with 429 and `Retry-After: retryAfterSeconds`. */
  throttle(count: number, retryAfterSeconds: number): void;
  /** Serve `crl` (DER) as the CRL of a product. */
  setCrl(product: SnpProduct, kind: 'VCEK' | 'VLEK', crl: Uint8Array): void;
  close(): Promise<void>;
}

export async function startKdsStandIn(): Promise<KdsStandIn> {
  const served = new Map<string, { bytes: Uint8Array; type: string }>();
  for (const vcek of servedVceks())
    served.set(vcek.path, { bytes: vcek.der, type: 'application/pkix-cert' });
  for (const [path, file] of Object.entries(CHAIN_FILES))
    served.set(path, {
      bytes: readFileSync(join(VECTORS_DIR, 'roots', 'amd', 'kds-cert-chains', file)),
      type: 'application/x-pem-file',
    });
  const requests: string[] = [];
  let throttled = { count: 0, retryAfterSeconds: 0 };
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '';
    requests.push(path);
    if (throttled.count > 0) {
      throttled = { ...throttled, count: throttled.count - 1 };
      return void response
        .writeHead(429, { 'retry-after': String(throttled.retryAfterSeconds) })
        .end();
    }
    const answer = served.get(path);
    if (answer === undefined) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': answer.type }).end(answer.bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    throttle: (count, retryAfterSeconds) => {
      throttled = { count, retryAfterSeconds };
    },
    setCrl: (product, kind, crl) =>
      void served.set(crlPath(product, kind), { bytes: crl, type: 'application/pkix-crl' }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
