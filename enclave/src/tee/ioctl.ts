/**
 * The native addon for the TEE ioctls (native/tee-ioctl.c, built by
 * `npm run build`), and the two device transports that use it.
 */
import { createRequire } from 'node:module';
import { closeSync, openSync } from 'node:fs';
import { ConfigError, UpstreamError } from '@veritee/attestations';

interface TeeIoctl {
  snpGetExtReport(
    fd: number,
    userData: Buffer,
    vmpl: number,
    response: Buffer,
    certs: Buffer,
  ): { rc: number; fwError: number; vmmError: number; certsLen: number };
  nsmRequest(fd: number, request: Buffer, response: Buffer): number;
}

let addon: TeeIoctl | undefined;

/**
 * @throws ConfigError TEE_UNAVAILABLE when the addon was not built
 */
export function loadTeeIoctl(): TeeIoctl {
  if (addon === undefined) {
    try {
      // Same relative path from src/tee and dist/tee.
      addon = createRequire(import.meta.url)('../../build/tee-ioctl.node') as TeeIoctl;
    } catch (error) {
      throw new ConfigError(
        'TEE_UNAVAILABLE',
        'the TEE ioctl addon is not built; run `npm run build`',
        { cause: error },
      );
    }
  }
  return addon;
}

/** MSG_REPORT_RSP (SEV-SNP ABI #56860, Table 25): status, report size, 24 reserved bytes, report. */
const REPORT_RESPONSE_HEADER = 32;
/** SNP_GUEST_VMM_ERR_INVALID_LEN (include/uapi/linux/sev-guest.h): the certificate buffer was too small. */
const VMM_ERROR_INVALID_LENGTH = 1;

function openDevice(path: string): number {
  try {
    return openSync(path, 'r+');
  } catch (error) {
    throw new ConfigError(
      'TEE_UNAVAILABLE',
      `cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

function ioctlFailure(error: unknown, call: string): UpstreamError {
  return new UpstreamError(
    'TEE_QUOTE_FAILED',
    `${call} failed: ${(error as { code?: string }).code ?? 'error'}`,
    { cause: error },
  );
}

/**
 * One SNP_GET_EXT_REPORT on /dev/sev-guest: the report followed by the
 * certificate table the host provisioned (empty when it provisioned none).
 * @throws ConfigError TEE_UNAVAILABLE, UpstreamError TEE_QUOTE_FAILED
 */
export function sevGuestExtendedReport(
  device: string,
  reportData: Uint8Array,
  vmpl: number,
): Uint8Array {
  const ioctl = loadTeeIoctl();
  const fd = openDevice(device);
  try {
    let certs = Buffer.alloc(4 * 4096);
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = Buffer.alloc(4000);
      let result: ReturnType<TeeIoctl['snpGetExtReport']>;
      try {
        result = ioctl.snpGetExtReport(fd, Buffer.from(reportData), vmpl, response, certs);
      } catch (error) {
        throw ioctlFailure(error, 'SNP_GET_EXT_REPORT');
      }
      if (result.rc !== 0 && result.vmmError === VMM_ERROR_INVALID_LENGTH && attempt === 0) {
        certs = Buffer.alloc(result.certsLen);
        continue;
      }
      if (result.rc !== 0 || result.fwError !== 0)
        throw new UpstreamError(
          'TEE_QUOTE_FAILED',
          `SNP_GET_EXT_REPORT failed: rc ${result.rc}, firmware error ${result.fwError}, VMM error ${result.vmmError}`,
        );
      const status = response.readUInt32LE(0);
      const size = response.readUInt32LE(4);
      if (status !== 0 || size !== 1184)
        throw new UpstreamError(
          'TEE_QUOTE_FAILED',
          `firmware answered status ${status} with a ${size}-byte report`,
        );
      return new Uint8Array(
        Buffer.concat([
          response.subarray(REPORT_RESPONSE_HEADER, REPORT_RESPONSE_HEADER + size),
          certs,
        ]),
      );
    }
    throw new UpstreamError(
      'TEE_QUOTE_FAILED',
      'SNP_GET_EXT_REPORT kept asking for a larger certificate buffer',
    );
  } finally {
    closeSync(fd);
  }
}

/** NSM responses are at most this large (nsm-driver NSM_RESPONSE_MAX_SIZE). */
const NSM_RESPONSE_MAX = 0x3000;

/**
 * A transport for the NSM protocol over /dev/nsm.
 * @throws ConfigError TEE_UNAVAILABLE (per request) when the device cannot be opened
 */
export function nsmDeviceTransport(device = '/dev/nsm') {
  return (request: Uint8Array): Promise<Uint8Array> => {
    const ioctl = loadTeeIoctl();
    const fd = openDevice(device);
    try {
      const response = Buffer.alloc(NSM_RESPONSE_MAX);
      let length: number;
      try {
        length = ioctl.nsmRequest(fd, Buffer.from(request), response);
      } catch (error) {
        throw ioctlFailure(error, 'NSM_IOCTL_REQUEST');
      }
      return Promise.resolve(new Uint8Array(response.subarray(0, length)));
    } finally {
      closeSync(fd);
    }
  };
}
