/**
 * The mutations the corpus records: a few byte edits of a real vector, then
 * perhaps a cut or an appended tail. Kept apart from the generator so the
 * corpus replays the same way whatever later changes how cases are drawn.
 */
import fc from 'fast-check';

export interface Mutation {
  /** Offsets (taken modulo the length) and the byte each is XORed with (never 0). */
  readonly edits: ReadonlyArray<readonly [number, number]>;
  /** Keep this many bytes (modulo length + 1), when set. */
  readonly cut?: number;
  /** Hex appended at the end, when set. */
  readonly tail?: string;
}

export function applyMutation(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  let out = Uint8Array.from(bytes);
  for (const [offset, xor] of mutation.edits) {
    const at = offset % out.length;
    out[at] = (out[at] ?? 0) ^ xor;
  }
  if (mutation.cut !== undefined) out = out.subarray(0, mutation.cut % (out.length + 1));
  if (mutation.tail !== undefined)
    out = new Uint8Array([...out, ...Buffer.from(mutation.tail, 'hex')]);
  return out;
}

/** One case in five cuts, one in five appends: most keep the length, so they reach the signature. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arbitrary });

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc
  .tuple(
    fc.array(fc.tuple(fc.nat({ max: 1 << 16 }), fc.integer({ min: 1, max: 255 })), {
      minLength: 1,
      maxLength: 8,
    }),
    sometimes(fc.nat({ max: 1 << 16 })),
    sometimes(fc.uint8Array({ minLength: 1, maxLength: 40 })),
  )
  .map(([edits, cut, tail]) => ({
    edits,
    ...(cut === undefined ? {} : { cut }),
    ...(tail === undefined ? {} : { tail: Buffer.from(tail).toString('hex') }),
  }));
