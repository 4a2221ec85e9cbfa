// Builds dist/ as Grafana loads a plugin: an AMD module.js (Grafana's SystemJS loader understands AMD),
// plugin.json with version and date filled in, img/, README.md and CHANGELOG.md. What Grafana itself
// provides at run time (React, @grafana/data|ui|runtime, rxjs, ...) stays external, as in
// Grafana's create-plugin template. The backend binaries (gpx_mdm_audit_<os>_<arch>) are built by the
// Rust side into the same dist/; the clean step keeps them.
const path = require('path');
const CopyWebpackPlugin = require('copy-webpack-plugin');

const pkg = require('./package.json');
const pluginJson = require('./src/plugin.json');

const SRC = path.resolve(__dirname, 'src');
const DIST = path.resolve(__dirname, 'dist');

/** Fills %VERSION% and %TODAY% as create-plugin does. */
function fillTemplate(content) {
  return content
    .toString()
    .replace(/%VERSION%/g, pkg.version)
    .replace(/%TODAY%/g, new Date().toISOString().substring(0, 10))
    .replace(/%PLUGIN_ID%/g, pluginJson.id);
}

const externals = [
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
];

module.exports = (env = {}) => {
  const production = Boolean(env.production);
  return {
    context: SRC,
    mode: production ? 'production' : 'development',
    devtool: production ? 'source-map' : 'eval-source-map',
    entry: { module: './module.ts' },
    externals,
    module: {
      rules: [
        {
          test: /\.[tj]sx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                parser: { syntax: 'typescript', tsx: true },
                transform: { react: { runtime: 'classic' } },
                target: 'es2020',
              },
            },
          },
        },
      ],
    },
    output: {
      path: DIST,
      filename: '[name].js',
      library: { type: 'amd' },
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
      clean: { keep: /(^|[\\/])gpx_mdm_audit_|go_plugin_build_manifest/ },
    },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          { from: 'plugin.json', to: '.', transform: fillTemplate },
          { from: 'img/**/*', to: '.' },
          { from: '../README.md', to: '.', transform: fillTemplate },
          { from: '../CHANGELOG.md', to: '.' },
        ],
      }),
    ],
    resolve: {
      extensions: ['.ts', '.tsx', '.js', '.jsx'],
    },
    performance: { hints: false },
    stats: production ? 'normal' : 'minimal',
  };
};
