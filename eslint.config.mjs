// ESLint over the TypeScript of the package, the demo and the end-to-end
// tests (`make lint`, part of `make test`). Type-aware: each folder is checked
// against its own tsconfig. Formatting is Prettier's (.prettierrc.json), not
// ESLint's.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      '**/generated/',
      '**/.next/',
      '**/next-env.d.ts',
      'e2e/test-results/',
      'e2e/artifacts/',
      'build/',
      // Outside the lint's scope (C++ tooling, benchmarks).
      'bench/',
      'scripts/',
      'shared/',
      'server/',
      'client-wasm/',
      'tests/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['js-wrapper/tsconfig.test.json', 'e2e/tsconfig.json', 'examples/chat-nextjs/tsconfig.json'],
        tsconfigRootDir: root,
      },
    },
    rules: {
      // Async functions that do not await are deliberate: they implement promise-returning
      // interfaces (BlobStore) and turn a throw into a rejection; act(async ...) flushes effects.
      '@typescript-eslint/require-await': 'off',
      // `_`-prefixed names are deliberately unused (placeholders in signatures and destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // The rules of hooks and effect dependencies. Not the React Compiler's rules of
    // eslint-plugin-react-hooks 6+ (set-state-in-effect, refs, ...): nothing here is
    // compiled by it, and they flag the SSR-safe patterns the demo uses on purpose
    // (reading localStorage in an effect after hydration).
    files: ['**/*.tsx', 'js-wrapper/src/react/**', 'examples/chat-nextjs/**'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    // Plain JavaScript (build scripts, the Next config, the e2e protocol client): no type information.
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
);
