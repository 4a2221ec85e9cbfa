// Grafana's shared lint rules for plugins (@grafana/eslint-config), plus type-aware checks on src/.
import grafanaConfig from '@grafana/eslint-config';

export default [
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'backend/'] },
  ...grafanaConfig,
  {
    rules: {
      // TypeScript types the props.
      'react/prop-types': 'off',
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: { project: './tsconfig.json' },
    },
    rules: {
      // Catches @grafana/ui components and APIs that Grafana has deprecated (Select, ...).
      '@typescript-eslint/no-deprecated': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
];
