/**
 * SEV-SNP quotes through /dev/sev-guest's SNP_GET_EXT_REPORT ioctl, for
 * kernels without configfs-tsm. The ioctl is synchronous in the kernel and
 * takes milliseconds; quotes are serialized as the device allows one at a time.
 */
import { UpstreamError } from '@veritee/attestations';
import { REPORT_DATA_SIZE } from '@veritee/attestations/wire';
import type { TeeProvider } from './provider.js';
import { sevGuestExtendedReport } from './ioctl.js';

export function createSevGuestTee(options: { device?: string; vmpl?: number } = {}): TeeProvider {
  const device = options.device ?? '/dev/sev-guest';
  return {
    kind: 'sev-snp',
    simulated: false,
    description: `AMD SEV-SNP via ${device}`,
    quote: ({ reportData }) => {
      if (reportData.byteLength !== REPORT_DATA_SIZE)
        return Promise.reject(
          new UpstreamError(
            'TEE_QUOTE_FAILED',
            `report data is ${reportData.byteLength} bytes; expected 64`,
          ),
        );
      try {
        return Promise.resolve(sevGuestExtendedReport(device, reportData, options.vmpl ?? 0));
      } catch (error) {
        return Promise.reject(
          error instanceof Error
            ? error
            : new UpstreamError('TEE_QUOTE_FAILED', 'SNP_GET_EXT_REPORT failed'),
        );
      }
    },
  };
}
