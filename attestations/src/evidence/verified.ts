declare const verifiedBrand: unique symbol;

/**
 * Evidence whose signatures and chain were checked. Only the verify functions of
 * this package create it, so policy evaluation cannot be handed raw input.
 */
export type Verified<T> = T & { readonly [verifiedBrand]: true };

/** Internal: marks a value verified. Not exported from the package. */
export function markVerified<T>(value: T): Verified<T> {
  return value as Verified<T>;
}
