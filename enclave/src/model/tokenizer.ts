/**
 * Text into a model's inputs: a regular expression into string tokens (the v1
 * way), or a Hugging Face `tokenizer.json` (WordPiece, BPE, Unigram) through
 * @huggingface/tokenizers, with the chat template of its `tokenizer_config.json`
 * rendered by @huggingface/jinja. Both come from files the config pins; nothing
 * is fetched.
 */
import { Template } from '@huggingface/jinja';
import * as tokenizers from '@huggingface/tokenizers';
import { ConfigError, RequestError } from '@veritee/attestations';
import type { ChatMessage } from '@veritee/attestations/wire';
import type { TokenizerSpec } from './config.js';

/**
 * The part of @huggingface/tokenizers used here. Its declarations import
 * without file extensions, which NodeNext resolution cannot follow, so they
 * are restated.
 */
interface HfTokenizer {
  encode(
    text: string,
    options: { add_special_tokens: boolean; return_token_type_ids: true },
  ): { ids: number[]; attention_mask: number[]; token_type_ids: number[] };
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
}
const { Tokenizer } = tokenizers as unknown as {
  Tokenizer: new (json: object, config: object) => HfTokenizer;
};

export interface Encoded {
  readonly ids: readonly number[];
  readonly attentionMask: readonly number[];
  readonly tokenTypeIds: readonly number[];
  /** The regex tokenizer's strings (empty for a Hugging Face tokenizer). */
  readonly tokens: readonly string[];
}

export interface TextTokenizer {
  /** Encodes text, special tokens included as the tokenizer's post-processor adds them. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): Encoded;
  /** Decodes ids back to text, special tokens skipped. */
  decode(ids: readonly number[]): string;
  /** Renders chat messages with the tokenizer config's chat template, ready for generation. */
  chat(messages: readonly ChatMessage[]): string;
}

function parseJson(bytes: Uint8Array, file: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ConfigError('MODEL_CONFIG_INVALID', `tokenizer file ${file} is not a JSON object`);
}

/** Special-token fields of a tokenizer config are strings or `{ content }` objects. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'content' in value)
    return String(value.content);
  return undefined;
}

/**
 * @param files the config's files, by name, already checked against their pins
 * @throws ConfigError MODEL_CONFIG_INVALID for a tokenizer file it cannot use
 */
export function createTokenizer(
  spec: TokenizerSpec,
  files: ReadonlyMap<string, Uint8Array>,
): TextTokenizer {
  const tooLong = () =>
    new RequestError(
      400,
      'MODEL_INPUT_INVALID',
      `the text is longer than the model's ${spec.maxTokens} tokens`,
    );
  if (spec.kind === 'regex') {
    const pattern = new RegExp(spec.pattern, 'g');
    return {
      encode(text) {
        const tokens =
          (spec.lowercase ? text.toLowerCase() : text).match(pattern)?.slice(0, spec.maxTokens) ??
          [];
        const ones = tokens.map(() => 1);
        return { ids: [], attentionMask: ones, tokenTypeIds: [], tokens };
      },
      decode: () => '',
      chat: () => {
        throw new RequestError(400, 'MODEL_INPUT_INVALID', 'this model takes no chat messages');
      },
    };
  }
  const json = parseJson(files.get(spec.file) as Uint8Array, spec.file);
  const config = spec.config === undefined ? {} : parseJson(files.get(spec.config)!, spec.config);
  let tokenizer: HfTokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (error) {
    throw new ConfigError('MODEL_CONFIG_INVALID', `tokenizer file ${spec.file} cannot be used`, {
      cause: error,
    });
  }
  const template =
    typeof config['chat_template'] === 'string' ? new Template(config['chat_template']) : undefined;
  return {
    encode(text, options) {
      const encoded = tokenizer.encode(text, {
        add_special_tokens: options?.addSpecialTokens ?? true,
        return_token_type_ids: true,
      });
      if (encoded.ids.length > spec.maxTokens) throw tooLong();
      return {
        ids: encoded.ids,
        attentionMask: encoded.attention_mask,
        tokenTypeIds: encoded.token_type_ids,
        tokens: [],
      };
    },
    decode: (ids) => tokenizer.decode([...ids], { skip_special_tokens: true }),
    chat(messages) {
      if (template === undefined)
        throw new RequestError(400, 'MODEL_INPUT_INVALID', 'this model has no chat template');
      return template.render({
        messages,
        add_generation_prompt: true,
        bos_token: tokenText(config['bos_token']) ?? '',
        eos_token: tokenText(config['eos_token']) ?? '',
      });
    },
  };
}
