/**
 * `veritee infer --prompt-file F`: sends a private prompt through a host as a client
 * would. The prompt is sealed to the enclave's attested key only after its
 * evidence passed; the answer is printed only after its binding and receipt
 * were checked.
 */
import { parseArgs } from 'node:util';
import { Refused } from '@veritee/client';
import { UsageError } from '../usage-error.js';
import type { InferenceInput } from '@veritee/attestations/wire';
import { readInput, readPromptFile } from '../input-file.js';
import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_USAGE,
  clientFromFlags,
  formatRefusal,
  type ClientFlagDeps,
} from '../client-flags.js';

export const INFER_USAGE = `Usage: veritee infer --prompt-file <file> [options]
       veritee infer [options] < prompt.txt
       veritee infer --image <file.png> [options]

Sends a private prompt to the enclave behind a host, and prints the model's
output, the receipt id, and what was verified. The host sees only ciphertext.
The prompt comes from --prompt-file or standard input ("-" or nothing); a
prompt given as an argument works but is visible to other local users in the
process list, and a warning says so.

For a model that reads images (VERITEE_BUNDLED_MODEL=ocr, say), --image sends
a PNG instead, sealed the same way. For a generative model, --max-tokens and
--stop bound the answer.

Options:
  --prompt-file <file>  the prompt, read as UTF-8
  --image <file>        a PNG image instead of a prompt
  --max-tokens <n>      at most this many generated tokens
  --stop <text>         stop generating at this text; repeat for several
${CLIENT_FLAGS_USAGE}
`;

export interface InferDeps extends ClientFlagDeps {
  readonly stdin: () => Promise<string>;
  /** Where warnings for people go (stderr). */
  readonly warn: (line: string) => void;
}

/** The prompt or image the flags name, with generation limits. */
async function inputFromFlags(
  values: {
    'prompt-file'?: string | undefined;
    image?: string | undefined;
    'max-tokens'?: string | undefined;
    stop?: string[] | undefined;
  },
  positionals: readonly string[],
  deps: InferDeps,
): Promise<string | InferenceInput> {
  if (values.image !== undefined) {
    if (values['prompt-file'] !== undefined || positionals.length > 0)
      throw new UsageError('send a prompt or an image, not both');
    if (values['max-tokens'] !== undefined || values.stop !== undefined)
      throw new UsageError('--max-tokens and --stop apply to prompts');
    return { image: Buffer.from(await readInput(values.image, 'image')).toString('base64') };
  }
  if (positionals.length > 1)
    throw new UsageError('give the prompt in a file (--prompt-file) or on standard input');
  if (values['prompt-file'] !== undefined && positionals.length > 0)
    throw new UsageError('give the prompt once: --prompt-file or an argument, not both');
  const argument = positionals[0];
  if (argument !== undefined && argument !== '-')
    deps.warn(
      'warning: a prompt given as an argument is visible to other users of this machine (ps); use --prompt-file or standard input',
    );
  const prompt =
    values['prompt-file'] !== undefined
      ? await readPromptFile(values['prompt-file'])
      : argument === undefined || argument === '-'
        ? await deps.stdin()
        : argument;
  if (prompt.length === 0) throw new UsageError('the prompt is empty');
  if (values['max-tokens'] === undefined && values.stop === undefined) return prompt;
  const maxTokens = values['max-tokens'] === undefined ? undefined : Number(values['max-tokens']);
  if (
    maxTokens !== undefined &&
    !(Number.isInteger(maxTokens) && maxTokens >= 1 && maxTokens <= 4096)
  )
    throw new UsageError('--max-tokens takes a whole number from 1 to 4096');
  return {
    text: prompt,
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(values.stop === undefined ? {} : { stop: values.stop }),
  };
}

export async function runInfer(
  argv: readonly string[],
  deps: InferDeps,
  write: (text: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CLIENT_FLAGS,
      'prompt-file': { type: 'string' },
      image: { type: 'string' },
      'max-tokens': { type: 'string' },
      stop: { type: 'string', multiple: true },
    },
  });
  const input = await inputFromFlags(values, positionals, deps);
  const { client, verifier: verifierRaw } = await clientFromFlags(values, deps);
  try {
    const result = await client.infer(input);
    const { verified, receipt } = result;
    if (values.json) {
      write(
        `${JSON.stringify({
          output: result.output,
          receipt: receipt?.jws ?? null,
          receiptId: receipt?.id ?? null,
          logIndex: receipt?.logIndex ?? null,
          receiptChecked: receipt?.checked !== undefined,
          verified,
          salt: result.salt,
        })}\n`,
      );
      return 0;
    }
    write(
      [
        `output            ${result.output}`,
        receipt === undefined
          ? 'receipt           none'
          : `receipt           ${receipt.id} (log index ${receipt.logIndex}${receipt.checked === undefined ? ', NOT checked' : `, checked against ${verifierRaw}`})`,
        `tee               ${verified.tee}${verified.simulated ? ' (SIMULATED hardware)' : ''}, measurement ${verified.measurement}`,
        `model hash        ${verified.modelHash}`,
        `approval          ${verified.approval}`,
        `input commitment  ${verified.inputCommitment} (salt ${result.salt}: keep it to open the commitment)`,
        `output hash       ${verified.outputHash}`,
        `verified          evidence chain and policy, binding of model, input, output and nonce${verified.batched ? ' (through the batch root)' : ''}${receipt?.checked === undefined ? '' : ', receipt signature and log inclusion'}`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    write(formatRefusal(error, values.json, { refused: true }));
    return 1;
  }
}
