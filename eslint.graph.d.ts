import type { ESLint, Linter } from 'eslint';

export declare const graphPlugin: ESLint.Plugin;
export declare const ALLOWED: Readonly<Record<string, readonly string[]>>;
export declare const graph: Linter.Config[];
