/**
 * @jest-environment node
 */
// The provisioned dashboards (../../dashboards/*.json) and alert rules (provisioning/alerting/*.yaml):
// they parse, Grafana 12.2 accepts their schema version, they use only this datasource (through the
// `datasource` variable) and Grafana's built-in panels and datasources, their links reach existing
// dashboards and carry the time range, and every query passes query-model.schema.json.
import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'fs';
import path from 'path';
import { parse } from 'yaml';

import schema from '../query-model.schema.json';
import pluginJson from './plugin.json';

const ROOT = path.join(__dirname, '..');
const DASHBOARDS_DIR = path.join(ROOT, '..', 'dashboards');
const ALERTING_DIR = path.join(ROOT, 'provisioning', 'alerting');

// Dashboard and alert JSON is untyped by nature; the assertions below are its types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const errorsOf = (q: unknown) =>
  validate(q) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);

const EXPECTED_UIDS = [
  'mdm-audit-overview',
  'mdm-audit-admin',
  'mdm-audit-device',
  'mdm-audit-change',
  'mdm-audit-incident',
  'mdm-audit-evidence',
  'mdm-audit-soc2',
  'mdm-audit-ingest',
];

/** Grafana 12.2's latest dashboard schema version (newer Grafana migrates it forward); 36 added datasource refs. */
const MIN_SCHEMA_VERSION = 36;
const MAX_SCHEMA_VERSION = 41;

/** Panels that ship with Grafana (public/app/plugins/panel), no plugin install needed. */
const BUILT_IN_PANELS = new Set([
  'alertlist',
  'annolist',
  'barchart',
  'bargauge',
  'candlestick',
  'canvas',
  'dashlist',
  'datagrid',
  'flamegraph',
  'gauge',
  'geomap',
  'heatmap',
  'histogram',
  'logs',
  'news',
  'nodeGraph',
  'piechart',
  'row',
  'stat',
  'state-timeline',
  'status-history',
  'table',
  'text',
  'timeseries',
  'traces',
  'trend',
  'xychart',
]);

const OUR_DS = { type: pluginJson.id, uid: '${datasource}' };
const BUILT_IN_DS = [
  { type: 'grafana', uid: '-- Grafana --' },
  { type: 'datasource', uid: '-- Dashboard --' },
  { type: 'datasource', uid: 'grafana' },
];

const dashboards: Array<[string, Json]> = readdirSync(DASHBOARDS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(readFileSync(path.join(DASHBOARDS_DIR, f), 'utf8'))]);

/** Every value of key `key` anywhere in `v`. */
function valuesOf(v: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) {
    v.forEach((x) => valuesOf(x, key, out));
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) {
        out.push(x);
      }
      valuesOf(x, key, out);
    }
  }
  return out;
}

/** Every string anywhere in `v`. */
function stringsOf(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') {
    out.push(v);
  } else if (Array.isArray(v)) {
    v.forEach((x) => stringsOf(x, out));
  } else if (v && typeof v === 'object') {
    Object.values(v).forEach((x) => stringsOf(x, out));
  }
  return out;
}

function panelsOf(d: Json): Json[] {
  return (d.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[]) ?? [])]);
}

/** Queries of the dashboard: panel targets and annotation targets on our datasource. */
function queriesOf(d: Json): Array<{ where: string; query: Json }> {
  const out: Array<{ where: string; query: Json }> = [];
  for (const p of panelsOf(d)) {
    for (const t of (p.targets as Json[]) ?? []) {
      out.push({ where: `panel "${p.title}"`, query: t });
    }
  }
  for (const a of d.annotations.list as Json[]) {
    if (a.target && a.datasource?.type === pluginJson.id) {
      out.push({ where: `annotation "${a.name}"`, query: a.target });
    }
  }
  return out;
}

/** The query without Grafana's own keys, as the schema describes it. */
function ourQuery(q: Json): Json {
  const { datasource, ...rest } = q;
  void datasource;
  return rest;
}

describe('dashboards/', () => {
  it('holds the eight dashboards, each with its uid', () => {
    expect(dashboards.map(([, d]) => d.uid).sort()).toEqual([...EXPECTED_UIDS].sort());
    for (const [file, d] of dashboards) {
      expect([file, d.uid]).toEqual([file, `mdm-audit-${file.replace(/\.json$/, '')}`]);
      expect(typeof d.title).toBe('string');
      expect(d.id ?? null).toBeNull(); // provisioned dashboards carry no database id
    }
  });

  it.each(dashboards)('%s: a schema version Grafana 12.2 accepts', (_file, d) => {
    expect(Number.isInteger(d.schemaVersion)).toBe(true);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(MIN_SCHEMA_VERSION);
    expect(d.schemaVersion).toBeLessThanOrEqual(MAX_SCHEMA_VERSION);
  });

  it.each(dashboards)('%s: the datasource is chosen by a variable of this plugin', (_file, d) => {
    const dsVars = (d.templating.list as Json[]).filter((v) => v.type === 'datasource');
    expect(dsVars).toHaveLength(1);
    expect(dsVars[0]).toMatchObject({ name: 'datasource', query: pluginJson.id });
  });

  it.each(dashboards)('%s: only our datasource (through the variable) or built-in ones', (_file, d) => {
    const refs = valuesOf(d, 'datasource');
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const ok =
        JSON.stringify(ref) === JSON.stringify(OUR_DS) ||
        BUILT_IN_DS.some((b) => JSON.stringify(b) === JSON.stringify(ref));
      expect([ref, ok]).toEqual([ref, true]);
    }
    // Every panel that queries names the datasource, and so does each of its targets.
    for (const p of panelsOf(d)) {
      if (p.targets) {
        expect([p.title, p.datasource]).toEqual([p.title, OUR_DS]);
        for (const t of p.targets as Json[]) {
          expect([p.title, t.datasource]).toEqual([p.title, OUR_DS]);
        }
      }
    }
  });

  it.each(dashboards)('%s: only built-in panel types, with unique ids inside the grid', (_file, d) => {
    const ids = new Set<number>();
    for (const p of panelsOf(d)) {
      expect([p.title, BUILT_IN_PANELS.has(p.type)]).toEqual([p.title, true]);
      expect(ids.has(p.id)).toBe(false);
      ids.add(p.id);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  it.each(dashboards)('%s: every query passes query-model.schema.json', (_file, d) => {
    const queries = queriesOf(d);
    expect(queries.length).toBeGreaterThan(0);
    for (const { where, query } of queries) {
      expect([where, errorsOf(ourQuery(query))]).toEqual([where, []]);
    }
  });

  it.each(dashboards)('%s: links reach existing dashboards and keep the time range', (_file, d) => {
    const urls = stringsOf(d).filter((s) => s.includes('/d/'));
    for (const url of urls) {
      const uid = /\/d\/([^/?#]+)/.exec(url)?.[1];
      expect([url, EXPECTED_UIDS.includes(uid ?? '')]).toEqual([url, true]);
      expect([url, url.includes('${__url_time_range}')]).toEqual([url, true]);
    }
    expect(d.links).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'dashboards', tags: ['mdm-audit'], keepTime: true })])
    );
  });

  it.each(dashboards)('%s: high-risk events are annotations on its time series', (_file, d) => {
    const ours = (d.annotations.list as Json[]).filter((a) => a.datasource?.type === pluginJson.id);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({
      enable: true,
      target: { queryType: 'annotations', filters: { riskLevels: ['high', 'critical'] } },
    });
  });

  it.each(dashboards)('%s: narratives are Markdown table cells beside the raw data', (_file, d) => {
    const panels = panelsOf(d);
    const narratives = panels.filter((p) => (p.targets as Json[])?.some((t) => t.queryType === 'narrative'));
    // Ingest health is about the pipeline, not about what admins did; the evidence set is what a
    // narrative's citation rests on: no narrative on either.
    expect(narratives.length > 0).toBe(!['mdm-audit-ingest', 'mdm-audit-evidence'].includes(d.uid));
    for (const n of narratives) {
      expect(n.type).toBe('table');
      expect(n.fieldConfig.defaults.custom.cellOptions.type).toBe('markdown');
      const beside = panels.filter(
        (p) =>
          p !== n && p.gridPos.y === n.gridPos.y && !(p.targets as Json[])?.some((t) => t.queryType === 'narrative')
      );
      expect([n.title, beside.length > 0]).toEqual([n.title, true]);
    }
  });

  it('links carry the actor and device to the dashboards that take them', () => {
    const all = dashboards.flatMap(([, d]) => stringsOf(d)).filter((s) => s.includes('/d/'));
    expect(all.some((u) => u.startsWith('/d/mdm-audit-admin?') && u.includes('var-actor='))).toBe(true);
    expect(all.some((u) => u.startsWith('/d/mdm-audit-device?') && u.includes('var-device='))).toBe(true);
    const byUid = Object.fromEntries(dashboards.map(([, d]) => [d.uid, d]));
    const varsOf = (uid: string) => (byUid[uid].templating.list as Json[]).map((v) => v.name);
    for (const url of all) {
      const uid = /\/d\/([^/?#]+)/.exec(url)![1];
      for (const m of url.matchAll(/var-([a-z_]+)=/g)) {
        expect([url, varsOf(uid)]).toEqual([url, expect.arrayContaining([m[1]])]);
      }
    }
  });

  it('the incident timeline covers 72 hours', () => {
    const incident = dashboards.find(([, d]) => d.uid === 'mdm-audit-incident')![1];
    expect(incident.time).toEqual({ from: 'now-72h', to: 'now' });
  });

  it('dashboards/README.md says what each dashboard answers', () => {
    const readme = readFileSync(path.join(DASHBOARDS_DIR, 'README.md'), 'utf8');
    for (const uid of EXPECTED_UIDS) {
      expect([uid, readme.includes(uid)]).toEqual([uid, true]);
    }
  });
});

const ruleFiles = readdirSync(ALERTING_DIR).filter((f) => f.endsWith('.yaml'));
const provisionedDs = parse(readFileSync(path.join(ROOT, 'provisioning', 'datasources', 'mdm-audit.yaml'), 'utf8'))
  .datasources[0];
const rules: Json[] = ruleFiles.flatMap((f) => {
  const file = parse(readFileSync(path.join(ALERTING_DIR, f), 'utf8'));
  return (file.groups as Json[]).flatMap((g) => g.rules as Json[]);
});

describe('provisioning/alerting', () => {
  it('files parse as Grafana alerting provisioning', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    for (const f of ruleFiles) {
      const file = parse(readFileSync(path.join(ALERTING_DIR, f), 'utf8'));
      expect(file.apiVersion).toBe(1);
      for (const g of file.groups as Json[]) {
        expect(g).toMatchObject({ orgId: 1, name: expect.any(String), folder: expect.any(String) });
        expect(g.interval).toMatch(/^\d+[smh]$/);
      }
    }
  });

  it.each(rules.map((r) => [r.uid, r]))('%s: queries the provisioned datasource with a stats query', (_uid, r) => {
    expect(r.uid.length).toBeLessThanOrEqual(40);
    const refs = (r.data as Json[]).map((q) => q.refId);
    expect(refs).toContain(r.condition);
    for (const q of r.data as Json[]) {
      expect([provisionedDs.uid, '__expr__']).toContain(q.datasourceUid);
      if (q.datasourceUid === provisionedDs.uid) {
        expect(q.model.queryType).toBe('stats');
        expect(errorsOf(q.model)).toEqual([]);
        expect(q.relativeTimeRange.from).toBeGreaterThan(0);
        // Alert rules run without the browser: no dashboard variables.
        expect(JSON.stringify(q.model)).not.toContain('$');
      } else {
        expect(['reduce', 'threshold', 'math']).toContain(q.model.type);
      }
    }
  });

  it.each(rules.map((r) => [r.uid, r]))('%s: explains its threshold', (_uid, r) => {
    const threshold = (r.data as Json[]).find((q) => q.model.type === 'threshold');
    const value = threshold!.model.conditions[0].evaluator.params[0];
    expect(typeof value).toBe('number');
    expect(r.annotations.summary).toEqual(expect.any(String));
    expect(r.annotations.description).toMatch(/Threshold/);
    expect(r.annotations.threshold).toEqual(expect.stringContaining(String(value)));
    expect(EXPECTED_UIDS).toContain(r.annotations.__dashboardUid__);
    const readme = readFileSync(path.join(DASHBOARDS_DIR, 'README.md'), 'utf8');
    expect([r.title, readme.includes(r.title)]).toEqual([r.title, true]);
  });

  it('covers mass destructive actions, passcode and encryption, role grants, approval bypass and tampering', () => {
    const tags = rules.flatMap((r) => (r.data as Json[]).flatMap((q) => (q.model.filters?.riskTags as string[]) ?? []));
    for (const t of [
      'remote_wipe',
      'bulk_destructive',
      'passcode_cleared',
      'passcode_disabled',
      'encryption_disabled',
      'role_grant',
      'approval_bypass',
      'audit_tamper',
    ]) {
      expect([t, tags.includes(t)]).toEqual([t, true]);
    }
  });
});
