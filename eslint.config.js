// ESLint (flat config) with typescript-eslint's recommended rules, without type information: the whole
// tree lints in seconds, so `npm test` (test/run.sh) runs it before the build. Deliberate choices, in `rules`:
// - no-explicit-any off: `any` appears only for untyped JSON (API replies, a spawned CLI's output, the feed)
//   and walks of the configuration tree by dotted path; strict tsc checks everything else.
// - no-unused-vars: a leading underscore marks a deliberately unused name, and `{ x: _x, ...rest }` is how
//   a key is left out of a copy (ignoreRestSiblings); tsc's noUnusedLocals reports the rest as well.
// - no-this-alias allows `self` only: iterator objects returned from a method read the owner through it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'bench/.work/', 'native/*/build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', globalThis: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
    },
  },
);
