/**
 * `GET /v1/collateral/...`: the SEV-SNP collateral the verifier keeps, under
 * AMD KDS's own paths (so a KDS client pointed at `<verifier>/v1/collateral`
 * works unchanged): a fleet asks its verifier, which asks AMD once per chip and
 * TCB, not once per boot.
 *
 *   /v1/collateral/vcek/v1/{product}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=[&fmcSPL=]
 *   /v1/collateral/{vcek|vlek}/v1/{product}/cert_chain
 *   /v1/collateral/{vcek|vlek}/v1/{product}/crl
 *
 * Answers say how long they stay good: a VCEK and a chain for a day, a CRL
 * until its nextUpdate.
 */
import type { Express, Request, Response } from 'express';
import { fromHex, RequestError } from '@veritee/attestations';
import { parseCrl } from '@veritee/attestations/evidence';
import { encodeTcb, hwidLength, isSnpProduct, type SnpProduct } from '@veritee/attestations/snp';
import type { KdsSource } from '@veritee/kds';
import { route } from '@veritee/service/express';

const DAY_SECONDS = 86_400;

function invalid(message: string): never {
  throw new RequestError(400, 'REQUEST_FIELD_INVALID', message);
}

function spl(query: Request['query'], name: string): number {
  const value = query[name];
  const level = typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(level >= 0 && level <= 255)) invalid(`${name} must be an integer from 0 to 255`);
  return level;
}

function send(response: Response, bytes: Uint8Array, type: string, maxAgeSeconds: number): void {
  response
    .set('cache-control', `public, max-age=${Math.max(0, Math.floor(maxAgeSeconds))}`)
    .type(type)
    .send(Buffer.from(bytes));
}

export function collateralRoutes(
  app: Express,
  source: KdsSource | undefined,
  clock: () => Date,
): void {
  app.get(
    '/v1/collateral/:kind/v1/:product/:item',
    route('/v1/collateral'),
    async (request: Request, response: Response) => {
      if (source === undefined)
        throw new RequestError(404, 'REQUEST_NOT_FOUND', 'this verifier serves no collateral');
      const { kind, product, item } = request.params as Record<string, string>;
      if (kind !== 'vcek' && kind !== 'vlek') invalid('the kind must be vcek or vlek');
      if (!isSnpProduct(product)) invalid('the product must be Milan, Genoa or Turin');
      const keyKind = kind === 'vcek' ? 'VCEK' : 'VLEK';
      let found: Uint8Array | undefined;
      if (item === 'cert_chain') {
        found = await source.chain(product, keyKind);
        if (found !== undefined)
          return send(response, found, 'application/x-pem-file', DAY_SECONDS);
      } else if (item === 'crl') {
        found = await source.crl(product, keyKind);
        if (found !== undefined) {
          const nextUpdate = parseCrl(found).nextUpdate?.getTime() ?? clock().getTime();
          return send(
            response,
            found,
            'application/pkix-crl',
            (nextUpdate - clock().getTime()) / 1000,
          );
        }
      } else {
        if (kind !== 'vcek') invalid('only VCEKs are served by chip');
        found = await vcekOf(source, product, item ?? '', request.query);
        if (found !== undefined) return send(response, found, 'application/pkix-cert', DAY_SECONDS);
      }
      throw new RequestError(404, 'COLLATERAL_NOT_FOUND', 'neither the cache nor AMD KDS has it');
    },
  );
}

async function vcekOf(
  source: KdsSource,
  product: SnpProduct,
  hwid: string,
  query: Request['query'],
): Promise<Uint8Array | undefined> {
  const chipId = /^[0-9a-f]+$/.test(hwid) ? fromHex(hwid) : undefined;
  if (chipId === undefined || chipId.byteLength !== hwidLength(product))
    invalid(`the hwid must be ${hwidLength(product)} bytes of lower-case hex`);
  const tcb = {
    bootloader: spl(query, 'blSPL'),
    tee: spl(query, 'teeSPL'),
    snp: spl(query, 'snpSPL'),
    microcode: spl(query, 'ucodeSPL'),
    ...(product === 'Turin' ? { fmc: spl(query, 'fmcSPL') } : {}),
  };
  return source.vcek(product, chipId, encodeTcb(tcb, product));
}
