/**
 * The one shape of an expected failure, everywhere in the product: a value, never a throw. What goes wrong
 * unexpectedly still throws; what a user or a peer can cause (bad input, a full queue, a refused upload) is a Result.
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = <E>(error: E): Result<never, E> => ({ ok: false, error });
