// @ts-check
/**
 * The dependency graph of the workspaces, as lint rules: which of our
 * packages and entry points each workspace's sources may import, and no
 * relative path out of the folder a file lives in. docs/architecture.md draws
 * the same graph; test/architecture.test.ts proves these rules catch a breach.
 */
import { dirname, relative, resolve, sep } from 'node:path';

const ROOT = import.meta.dirname;

/** The top-level folder (workspace, bench/ or scripts/) a path lies in. */
const topFolder = (/** @type {string} */ path) => relative(ROOT, path).split(sep)[0] ?? '';

/** @type {import('eslint').Rule.RuleModule} */
const noCrossWorkspacePath = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid relative imports that leave the importing workspace' },
    messages: {
      cross:
        "'{{source}}' reaches from {{from}}/ into {{target}}/: import that workspace by its package name (its exports map says what it offers)",
    },
    schema: [],
  },
  create(context) {
    /** @param {any} node */
    const check = (node) => {
      const source = node.source?.type === 'Literal' ? node.source.value : undefined;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const from = topFolder(context.filename);
      const resolved = resolve(dirname(context.filename), source);
      // Files at the repository's root (this one, say) are tooling any folder may use.
      if (!relative(ROOT, resolved).includes(sep)) return;
      const target = topFolder(resolved);
      if (target !== from)
        context.report({ node: node.source, messageId: 'cross', data: { source, from, target } });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export const graphPlugin = { rules: { 'no-cross-workspace-path': noCrossWorkspacePath } };

/** Imports of ours each workspace's sources may make, exactly (entry points included). */
export const ALLOWED = {
  attestations: [],
  http: ['attestations'],
  service: ['attestations', 'attestations/config'],
  kds: ['attestations', 'attestations/evidence', 'attestations/snp', 'http'],
  // The enclave is the TCB: formats and sealing only. Simulator code loads by
  // dynamic import when (and only when) it runs simulated.
  enclave: [
    'attestations',
    'attestations/config',
    'attestations/merkle',
    'attestations/nitro',
    'attestations/seal',
    'attestations/snp',
    'attestations/wire',
    'http',
    'service',
  ],
  verifier: [
    'attestations',
    'attestations/config',
    'attestations/evidence',
    'attestations/merkle',
    'attestations/policy',
    'attestations/receipt',
    'attestations/seal',
    'attestations/sim',
    'attestations/snp',
    'attestations/tlog',
    'attestations/wire',
    'http',
    'kds',
    'service',
    'service/express',
  ],
  // The host relays sealed bytes: it sees the wire formats and nothing else.
  host: ['attestations', 'attestations/config', 'attestations/wire', 'service', 'service/express'],
  client: [
    'attestations',
    'attestations/evidence',
    'attestations/merkle',
    'attestations/policy',
    'attestations/receipt',
    'attestations/seal',
    'attestations/tlog',
    'attestations/wire',
    'http',
  ],
  infra: [
    'attestations',
    'attestations/evidence',
    'attestations/nitro',
    'attestations/seal',
    'attestations/snp',
  ],
  cli: [
    'attestations',
    'attestations/evidence',
    'attestations/merkle',
    'attestations/policy',
    'attestations/receipt',
    'attestations/seal',
    'attestations/sim',
    'attestations/snp',
    'attestations/tlog',
    'attestations/wire',
    'client',
    'http',
    'kds',
    'infra',
    'enclave/bundled-model',
    'mock/dev-pki',
    'service',
  ],
  mock: [
    'attestations',
    'attestations/evidence',
    'attestations/nitro',
    'attestations/seal',
    'attestations/sim',
    'attestations/snp',
    'attestations/wire',
    'infra',
    'kds',
    'service',
  ],
};

/** Third-party packages a workspace's sources must not import. */
const FORBIDDEN = {
  attestations: {
    packages: [
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
  enclave: { packages: ['express'], message: 'no web framework inside the TCB.' },
  host: { packages: ['onnxruntime-node'], message: 'the host runs no model.' },
  client: {
    packages: ['express', 'onnxruntime-node', '@aws-sdk/*'],
    message: 'the client SDK has nothing server-side.',
  },
};

const escape = (/** @type {string} */ text) => text.replace(/[/.]/g, '\\$&');

/** @param {keyof typeof ALLOWED} workspace */
function restrictions(workspace) {
  const allowed = ALLOWED[workspace];
  /** @type {any[]} */
  const patterns = [
    {
      regex:
        allowed.length === 0 ? '^@veritee/' : `^@veritee/(?!(?:${allowed.map(escape).join('|')})$)`,
      message: `${workspace}/ may import only ${allowed.length === 0 ? 'nothing of ours' : allowed.map((name) => `@veritee/${name}`).join(', ')} (eslint.graph.js, docs/architecture.md).`,
    },
  ];
  const forbidden = /** @type {Record<string, {packages: string[], message: string}>} */ (
    FORBIDDEN
  )[workspace];
  if (forbidden !== undefined)
    patterns.push({ group: forbidden.packages, message: forbidden.message });
  return patterns;
}

/** Tests, benchmarks and scripts use any workspace, through its exports map only. */
const DEEP = {
  regex: '^@veritee/[^/]+/(?:src|test|dist)(?:/|$)',
  message: 'import a workspace through its exports map, never its src/, test/ or dist/.',
};

export const graph = [
  {
    plugins: { veritee: graphPlugin },
    rules: {
      'veritee/no-cross-workspace-path': 'error',
      'no-restricted-imports': ['error', { patterns: [DEEP] }],
    },
  },
  ...Object.keys(ALLOWED).map((workspace) => ({
    files: [`${workspace}/src/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [DEEP, ...restrictions(/** @type {keyof typeof ALLOWED} */ (workspace))] },
      ],
    },
  })),
  {
    // The simulated TEE is loaded only in simulation; it may name the simulator's types.
    files: ['enclave/src/tee/simulated.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [DEEP, ...restrictions('enclave')].map((pattern) =>
            'regex' in pattern && pattern !== DEEP
              ? { ...pattern, allowTypeImports: true }
              : pattern,
          ),
        },
      ],
    },
  },
];
