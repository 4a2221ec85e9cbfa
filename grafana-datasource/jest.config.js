// Jest for the frontend: jsdom, TypeScript through SWC (as Grafana's create-plugin template does).
// Grafana's packages are CommonJS except a few ES-module-only dependencies, which SWC transforms.
const esModules = ['ol', 'react-colorful', 'd3', 'd3-.*', 'internmap', 'delaunator', 'robust-predicates', 'marked', 'uuid'];

module.exports = {
  testEnvironment: 'jest-environment-jsdom',
  roots: ['<rootDir>/src'],
  testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}'],
  setupFilesAfterEnv: ['<rootDir>/jest-setup.ts'],
  moduleNameMapper: {
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
  },
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        sourceMaps: 'inline',
        jsc: {
          parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
          transform: { react: { runtime: 'classic' } },
          target: 'es2022',
        },
      },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!(${esModules.join('|')})/)`],
};
