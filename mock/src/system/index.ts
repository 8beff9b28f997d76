/**
 * `@veritee/mock/system`: the whole system as real processes (what `npm start`
 * runs), and helpers for cross-component tests on ephemeral ports.
 */
export * from './processes.js';
export * from './fixture.js';
