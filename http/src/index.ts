/** `@veritee/http`: the one HTTP client, with a deadline and a size cap on every call. */
export { fetchBounded, type BoundedFetchOptions, type BoundedResponse } from './fetch.js';
