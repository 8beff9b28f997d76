// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Imports each workspace must not make (docs: ../shared/conventions.md, "Dependency direction"). */
const restricted = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['attestations/src/**/*.ts'],
    rules: restricted([
      { group: ['@veritee/*'], message: 'attestations/ imports nothing of ours.' },
      {
        group: [
          'express',
          'onnxruntime-node',
          '@aws-sdk/*',
          'node:fs',
          'node:fs/*',
          'node:net',
          'node:http',
          'node:https',
          'fs',
          'http',
          'https',
        ],
        message: 'attestations/ does no I/O.',
      },
    ]),
  },
  {
    files: ['kds/src/**/*.ts'],
    rules: restricted([
      {
        group: ['@veritee/*', '!@veritee/attestations'],
        message: 'kds/ may import only attestations.',
      },
    ]),
  },
  {
    files: ['enclave/src/**/*.ts'],
    rules: restricted([
      {
        group: ['@veritee/*', '!@veritee/attestations', '!@veritee/attestations/*'],
        message: 'enclave/ may import only attestations.',
      },
      { group: ['express'], message: 'no web framework inside the TCB.' },
    ]),
  },
  {
    files: ['verifier/src/**/*.ts'],
    rules: restricted([
      {
        group: ['@veritee/*', '!@veritee/attestations', '!@veritee/attestations/*'],
        message: 'verifier/ may import only attestations.',
      },
    ]),
  },
  {
    files: ['host/src/**/*.ts'],
    rules: restricted([
      {
        group: ['@veritee/*', '!@veritee/attestations'],
        message:
          'host/ may import only attestations (formats), never enclave code or key material.',
      },
      { group: ['onnxruntime-node'], message: 'the host runs no model.' },
    ]),
  },
  {
    files: ['infra/src/**/*.ts'],
    rules: restricted([
      {
        group: ['@veritee/*', '!@veritee/attestations', '!@veritee/attestations/*'],
        message: 'infra/ may import only attestations, never the source of the services.',
      },
    ]),
  },
  {
    files: ['client/src/**/*.ts'],
    rules: restricted([
      {
        group: ['@veritee/*', '!@veritee/attestations'],
        message: 'the client SDK imports only attestations: nothing server-side.',
      },
      { group: ['express', 'onnxruntime-node', '@aws-sdk/*'], message: 'nothing server-side.' },
    ]),
  },
  {
    files: ['**/test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test'], package: 'node:test' },
          ],
        },
      ],
    },
  },
);
