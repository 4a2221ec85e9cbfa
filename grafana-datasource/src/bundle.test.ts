/**
 * Builds the plugin as `npm run build` does (into a temporary folder) and loads module.js the way
 * Grafana does: an AMD module whose dependencies Grafana's loader supplies from its own copies.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';

import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as react from 'react';

import pkg from '../package.json';
import { instanceSettings } from './test/settings';

/**
 * Module names Grafana's plugin loader provides (grafana/grafana
 * public/app/features/plugins/loader/sharedDependencies.ts, `sharedDependenciesMap`), less the
 * legacy `app/...` paths and flot. A plugin's module.js may depend on these and nothing else.
 */
const GRAFANA_SHARED_DEPENDENCIES = [
  '@emotion/css',
  '@emotion/react',
  '@grafana/data',
  '@grafana/runtime',
  '@grafana/slate-react',
  '@grafana/ui',
  'd3',
  'emotion',
  'i18next',
  'jquery',
  'lodash',
  'moment',
  'prismjs',
  'react',
  'react/jsx-runtime',
  'react-dom',
  'react-inlinesvg',
  'react-redux',
  'react-router',
  'react-router-dom',
  'redux',
  'rxjs',
  'rxjs/operators',
  'slate',
  'slate-plain-serializer',
];

const HOST_MODULES: Record<string, unknown> = {
  '@grafana/data': grafanaData,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/ui': grafanaUi,
  react,
};

const ROOT = path.join(__dirname, '..');
let out: string;

beforeAll(() => {
  out = mkdtempSync(path.join(tmpdir(), 'mdm-audit-dist-'));
  // The Rust packaging puts the backend binaries into dist/ too; the build must keep them.
  writeFileSync(path.join(out, 'gpx_mdm_audit_linux_amd64'), 'backend');
  execFileSync(
    process.execPath,
    [
      require.resolve('webpack-cli/bin/cli.js'),
      '--config',
      'webpack.config.cjs',
      '--env',
      'production',
      '--output-path',
      out,
    ],
    { cwd: ROOT, stdio: 'pipe' }
  );
}, 120_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

/** Runs module.js with an AMD `define` that hands it Grafana's modules, as SystemJS does. */
function loadAmd(code: string): { deps: string[]; exports: Record<string, unknown> } {
  let captured: { deps: string[]; exports: Record<string, unknown> } | undefined;
  const define = (deps: string[], factory: (...mods: unknown[]) => Record<string, unknown>) => {
    const missing = deps.filter((d) => !(d in HOST_MODULES));
    if (missing.length) {
      throw new Error(`module.js needs modules this test does not provide: ${missing.join(', ')}`);
    }
    captured = { deps, exports: factory(...deps.map((d) => HOST_MODULES[d])) };
  };
  new Function('define', code)(define);
  if (!captured) {
    throw new Error('module.js did not call define()');
  }
  return captured;
}

describe('the built plugin', () => {
  it('writes what Grafana loads, and keeps the backend binaries', () => {
    for (const f of ['module.js', 'module.js.map', 'plugin.json', 'img/logo.svg', 'README.md', 'CHANGELOG.md']) {
      expect([f, existsSync(path.join(out, f))]).toEqual([f, true]);
    }
    expect(readFileSync(path.join(out, 'gpx_mdm_audit_linux_amd64'), 'utf8')).toBe('backend');
    const plugin = JSON.parse(readFileSync(path.join(out, 'plugin.json'), 'utf8'));
    expect(plugin.info.version).toBe(pkg.version);
    expect(plugin.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('is an AMD module that depends only on modules Grafana shares', () => {
    const code = readFileSync(path.join(out, 'module.js'), 'utf8');
    const { deps } = loadAmd(code);
    expect(deps.every((d) => GRAFANA_SHARED_DEPENDENCIES.includes(d))).toBe(true);
    expect(deps).toEqual(expect.arrayContaining(['@grafana/data', '@grafana/runtime', '@grafana/ui', 'react']));
  });

  it("exports a datasource plugin built on Grafana's own classes, with both editors", () => {
    const { exports } = loadAmd(readFileSync(path.join(out, 'module.js'), 'utf8'));
    const plugin = exports.plugin as grafanaData.DataSourcePlugin<grafanaData.DataSourceApi>;
    expect(plugin).toBeInstanceOf(grafanaData.DataSourcePlugin);
    expect(plugin.components.QueryEditor).toEqual(expect.any(Function));
    expect(plugin.components.ConfigEditor).toEqual(expect.any(Function));

    const ds = new plugin.DataSourceClass(instanceSettings());
    expect(ds).toBeInstanceOf(grafanaRuntime.DataSourceWithBackend);
    expect(ds.getDefaultQuery?.(grafanaData.CoreApp.PanelEditor)).toEqual({ queryType: 'timeline', limit: 1000 });
    expect(ds.annotations).toBeDefined();
  });

  it('stays small: everything Grafana provides is left out', () => {
    expect(readFileSync(path.join(out, 'module.js')).length).toBeLessThan(100_000);
  });
});
