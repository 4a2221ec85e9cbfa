// Jest for the frontend: jsdom, TypeScript through SWC (as Grafana's create-plugin template does).
// Grafana's packages ship CommonJS, but some of their dependencies are ES modules only; SWC
// transforms those (the list is what @grafana/data|ui|runtime 12.4 pull in).
const esModules = [
  '@grafana/react-data-grid',
  '@leeoniya/ufuzzy',
  '@wojtekmaj/date-utils',
  'd3',
  'd3-[a-z-]+',
  'delaunator',
  'earcut',
  'geotiff',
  'get-user-locale',
  'internmap',
  'marked',
  'marked-mangle',
  'memoize',
  'mimic-function',
  'ol',
  'pbf',
  'quick-lru',
  'quickselect',
  'rbush',
  'react-calendar',
  'react-colorful',
  'react-loading-skeleton',
  'robust-predicates',
  'uuid',
  'uwrap',
  'web-worker',
  'zstddec',
];

module.exports = {
  testEnvironment: 'jest-environment-jsdom',
  // Rendering Grafana's components in jsdom is slow on a busy 2-core machine; 5 s is not enough there.
  testTimeout: 30000,
  roots: ['<rootDir>/src'],
  testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}'],
  setupFilesAfterEnv: ['<rootDir>/jest-setup.ts'],
  moduleNameMapper: {
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
    '^react-inlinesvg$': '<rootDir>/src/test/reactInlineSvgMock.tsx',
  },
  transform: {
    '^.+\\.m?[tj]sx?$': [
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
