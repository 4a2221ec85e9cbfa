/**
 * @jest-environment node
 */
import Ajv from 'ajv';
import { existsSync, readFileSync } from 'fs';
import path from 'path';

import pkg from '../package.json';
import pluginJson from './plugin.json';
import { PLUGIN_JSON_RULES } from './test/pluginJsonRules';

// webpack.config.cjs fills %VERSION% and %TODAY% when it copies plugin.json into dist/.
const webpackConfig = require('../webpack.config.cjs') as (env: Record<string, boolean>) => {
  plugins: Array<{ patterns?: Array<{ from: string; transform?: (c: Buffer) => string }> }>;
};

// unicodeRegExp off: the schema's patterns escape '-' and '%', which only non-unicode regexps accept.
const validate = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }).compile(PLUGIN_JSON_RULES);

function errorsOf(json: unknown): string[] {
  return validate(json) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

describe('src/plugin.json', () => {
  it("follows Grafana's plugin.json schema", () => {
    expect(errorsOf(pluginJson)).toEqual([]);
  });

  it('is a backend datasource with alerting, annotations and metrics, for Grafana 12.2 or later', () => {
    expect(pluginJson).toMatchObject({
      type: 'datasource',
      id: 'mdm-audit-datasource',
      backend: true,
      executable: 'gpx_mdm_audit',
      alerting: true,
      annotations: true,
      metrics: true,
      dependencies: { grafanaDependency: '>=12.2.0' },
    });
  });

  it('names logos that exist and are SVG', () => {
    for (const logo of [pluginJson.info.logos.small, pluginJson.info.logos.large]) {
      const file = path.join(__dirname, logo);
      expect(existsSync(file)).toBe(true);
      expect(logo).toMatch(/\.svg$/);
      expect(readFileSync(file, 'utf8')).toContain('<svg');
    }
  });

  it('names the backend executable as the Rust packaging builds it (gpx_<name>_<os>_<arch>)', () => {
    expect(pluginJson.executable).toMatch(/^gpx_[a-z0-9_]+$/);
    expect(`${pluginJson.executable}_linux_amd64`).toBe('gpx_mdm_audit_linux_amd64');
  });

  it('still follows the schema after the build fills version and date', () => {
    const copy = webpackConfig({ production: true })
      .plugins.flatMap((p) => p.patterns ?? [])
      .find((p) => p.from === 'plugin.json');
    expect(copy?.transform).toBeDefined();
    const built = JSON.parse(copy!.transform!(Buffer.from(JSON.stringify(pluginJson))));
    expect(built.info.version).toBe(pkg.version);
    expect(built.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(errorsOf(built)).toEqual([]);
  });
});

describe('the rules catch what Grafana refuses', () => {
  const cases: Array<[string, (p: Record<string, unknown>) => void, string]> = [
    ['an id without a type suffix', (p) => (p.id = 'mdm-audit'), '/id must match pattern'],
    ['an id with capitals', (p) => (p.id = 'MDM-audit-datasource'), '/id must match pattern'],
    ['an unknown type', (p) => (p.type = 'source'), '/type must be equal to one of the allowed values'],
    ['a missing name', (p) => delete p.name, "/ must have required property 'name'"],
    ['an unknown top-level key', (p) => (p.colour = 'blue'), '/ must NOT have additional properties'],
    [
      'no keywords',
      (p) => ((p.info as Record<string, unknown>).keywords = []),
      '/info/keywords must NOT have fewer than 1 items',
    ],
    [
      'a missing large logo',
      (p) => delete (p.info as Record<string, Record<string, unknown>>).logos.large,
      "/info/logos must have required property 'large'",
    ],
    [
      'a version that is not semver',
      (p) => ((p.info as Record<string, unknown>).version = 'v1'),
      '/info/version must match pattern',
    ],
    [
      'a loose Grafana dependency',
      (p) => ((p.dependencies as Record<string, unknown>).grafanaDependency = 'latest'),
      '/dependencies/grafanaDependency must match pattern',
    ],
    ['alerting without a backend', (p) => (p.backend = false), '/backend must be equal to constant'],
    ['a backend without an executable', (p) => delete p.executable, "/ must have required property 'executable'"],
  ];

  it.each(cases)('rejects %s', (_name, mutate, expected) => {
    const broken = JSON.parse(JSON.stringify(pluginJson));
    mutate(broken);
    expect(errorsOf(broken).join('\n')).toContain(expected);
  });
});
