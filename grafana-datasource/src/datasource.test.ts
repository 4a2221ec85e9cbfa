import { CoreApp, dateTime, TimeRange } from '@grafana/data';
import { setBackendSrv, setTemplateSrv } from '@grafana/runtime';

import { parseVariableQuery, sqlFormat } from './datasource';
import { fakeBackendSrv } from './test/fakeBackendSrv';
import { FakeTemplateSrv } from './test/fakeTemplateSrv';
import { makeDataSource } from './test/settings';
import { DEFAULT_QUERY, MdmQuery } from './types';

const variables = new FakeTemplateSrv({
  actor: { value: ['alice@corp.example', 'bob@corp.example'], multi: true },
  vendor: { value: 'jamf' },
  device: { value: 'C02XK1' },
  tag: { value: '$__all', multi: true, includeAll: true, options: ['remote_wipe', 'role_grant'] },
  owner: { value: "o'brien@corp.example" },
  dept: { value: 'finance' },
});

beforeEach(() => {
  setTemplateSrv(variables);
});

const base: MdmQuery = { refId: 'A', queryType: 'timeline' };

describe('default query', () => {
  it('is a timeline capped at 1000 rows', () => {
    const ds = makeDataSource();
    expect(ds.getDefaultQuery(CoreApp.PanelEditor)).toEqual({ queryType: 'timeline', limit: 1000 });
    expect(ds.getDefaultQuery(CoreApp.Explore)).toBe(DEFAULT_QUERY);
  });

  it('alert rules start from a stats query, since alerting needs numbers', () => {
    const ds = makeDataSource();
    for (const app of [CoreApp.UnifiedAlerting, CoreApp.CloudAlerting]) {
      expect(ds.getDefaultQuery(app)).toEqual({
        queryType: 'stats',
        stats: { metric: 'count', groupBy: 'none' },
        filters: { riskLevels: ['high', 'critical'] },
      });
    }
  });

  it('annotations start from high and critical events', () => {
    const ds = makeDataSource();
    expect(ds.annotations.getDefaultQuery?.()).toEqual({
      queryType: 'annotations',
      filters: { riskLevels: ['high', 'critical'] },
      limit: 1000,
    });
  });
});

describe('filterQuery', () => {
  const ds = makeDataSource();

  it('runs filter-only query types even without filters', () => {
    for (const queryType of ['timeline', 'stats', 'episodes', 'annotations', 'narrative'] as const) {
      expect(ds.filterQuery({ refId: 'A', queryType })).toBe(true);
    }
  });

  it('skips hidden queries', () => {
    expect(ds.filterQuery({ ...base, hide: true })).toBe(false);
  });

  it('skips sql queries without a statement', () => {
    expect(ds.filterQuery({ refId: 'A', queryType: 'sql' })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', queryType: 'sql', sql: '  \n ' })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', queryType: 'sql', sql: 'SELECT 1' })).toBe(true);
  });
});

describe('applyTemplateVariables', () => {
  const ds = makeDataSource();

  it('expands a multi-value variable into several filter values', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { actors: ['$actor'] } }, {});
    expect(out.filters?.actors).toEqual(['alice@corp.example', 'bob@corp.example']);
  });

  it('expands every variable syntax, keeps literals and drops duplicates', () => {
    const out = ds.applyTemplateVariables(
      { ...base, filters: { vendors: ['${vendor}', 'jamf', '[[vendor]]', 'microsoft'] } },
      {}
    );
    expect(out.filters?.vendors).toEqual(['jamf', 'microsoft']);
  });

  it('expands "All" to every option of the variable', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { riskTags: ['${tag}'] } }, {});
    expect(out.filters?.riskTags).toEqual(['remote_wipe', 'role_grant']);
  });

  it('interpolates a variable inside a longer value as one value', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { devices: ['serial-$device'] } }, {});
    expect(out.filters?.devices).toEqual(['serial-C02XK1']);
  });

  it('keeps an unknown variable as a literal value', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { actions: ['$nope', 'wipe'] } }, {});
    expect(out.filters?.actions).toEqual(['$nope', 'wipe']);
  });

  it('lets scoped variables (repeated panels) win', () => {
    const out = ds.applyTemplateVariables(
      { ...base, filters: { actors: ['$actor'] } },
      { actor: { text: 'carol', value: 'carol@corp.example' } }
    );
    expect(out.filters?.actors).toEqual(['carol@corp.example']);
  });

  it('interpolates the text filter and leaves risk levels alone', () => {
    const out = ds.applyTemplateVariables(
      { ...base, filters: { text: 'dept $dept', riskLevels: ['high', 'critical'] } },
      {}
    );
    expect(out.filters).toEqual({ text: 'dept finance', riskLevels: ['high', 'critical'] });
  });

  it('quotes multi-value variables as SQL literals and escapes single values', () => {
    const out = ds.applyTemplateVariables(
      {
        refId: 'A',
        queryType: 'sql',
        sql: "SELECT * FROM events WHERE actor_upn IN ($actor) AND vendor = '$vendor' AND actor_name <> '$owner' AND risk_tags IN (${tag})",
      },
      {}
    );
    expect(out.sql).toBe(
      "SELECT * FROM events WHERE actor_upn IN ('alice@corp.example','bob@corp.example') AND vendor = 'jamf' AND actor_name <> 'o''brien@corp.example' AND risk_tags IN ('remote_wipe','role_grant')"
    );
  });

  it('interpolates the narrative subject', () => {
    const out = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'narrative', narrative: { kind: 'device_lifecycle', subject: '$device' } },
      {}
    );
    expect(out.narrative).toEqual({ kind: 'device_lifecycle', subject: 'C02XK1' });
  });

  it('does not change the saved query', () => {
    const saved: MdmQuery = { ...base, filters: { actors: ['$actor'] } };
    ds.applyTemplateVariables(saved, {});
    expect(saved.filters?.actors).toEqual(['$actor']);
  });

  it('leaves a query without variables as it was', () => {
    const q: MdmQuery = {
      refId: 'B',
      queryType: 'stats',
      filters: { vendors: ['jamf'], riskLevels: ['critical'] },
      stats: { metric: 'count', groupBy: 'actor' },
      limit: 20,
    };
    expect(ds.applyTemplateVariables(q, {})).toEqual(q);
  });
});

describe('sqlFormat', () => {
  it('quotes a single value only when the variable is multi-value or include-all', () => {
    expect(sqlFormat('a', { multi: true })).toBe("'a'");
    expect(sqlFormat('a', { includeAll: true })).toBe("'a'");
    expect(sqlFormat("it's", {})).toBe("it''s");
    expect(sqlFormat(["x'y", 'z'], { multi: true })).toBe("'x''y','z'");
  });
});

describe('resources', () => {
  const range: TimeRange = {
    from: dateTime(1_700_000_000_000),
    to: dateTime(1_700_003_600_000),
    raw: { from: 'now-1h', to: 'now' },
  };

  it('asks suggest/{field} with the typed text and time range', async () => {
    const backend = fakeBackendSrv({ 'resources/suggest/actors': { values: ['alice@corp.example'] } });
    setBackendSrv(backend.srv);
    const ds = makeDataSource();
    await expect(ds.getSuggestions('actors', 'ali', range)).resolves.toEqual(['alice@corp.example']);
    expect(backend.requests[0]).toMatchObject({
      method: 'GET',
      url: '/api/datasources/uid/mdm-uid/resources/suggest/actors',
      params: { q: 'ali', from: '1700000000000', to: '1700003600000' },
    });
  });

  it('rejects a suggest answer that is not { values: string[] }', async () => {
    setBackendSrv(fakeBackendSrv({ 'resources/suggest/devices': { devices: ['x'] } }).srv);
    await expect(makeDataSource().getSuggestions('devices')).rejects.toThrow(
      'suggest/devices: the backend answered without a "values" list of strings'
    );
  });

  it('reads the schema for SQL completion', async () => {
    const schema = { tables: [{ name: 'events', columns: [{ name: 'time', type: 'timestamp' }] }] };
    setBackendSrv(fakeBackendSrv({ 'resources/schema': schema }).srv);
    await expect(makeDataSource().getSchema()).resolves.toEqual(schema);
  });

  it('rejects a schema whose columns are not named and typed', async () => {
    setBackendSrv(fakeBackendSrv({ 'resources/schema': { tables: [{ name: 'events', columns: [{ name: 1 }] }] } }).srv);
    await expect(makeDataSource().getSchema()).rejects.toThrow('schema');
  });
});

describe('metricFindQuery (template variables)', () => {
  it('lists suggestions of the named field as variable values', async () => {
    const backend = fakeBackendSrv({ 'resources/suggest/vendors': { values: ['jamf', 'microsoft', 'omnissa'] } });
    setBackendSrv(backend.srv);
    await expect(makeDataSource().metricFindQuery('vendors')).resolves.toEqual([
      { text: 'jamf', value: 'jamf' },
      { text: 'microsoft', value: 'microsoft' },
      { text: 'omnissa', value: 'omnissa' },
    ]);
    expect(backend.requests[0].params).toEqual({});
  });

  it('narrows by the text after the colon, with variables expanded', async () => {
    const backend = fakeBackendSrv({ 'resources/suggest/actors': { values: ['ann@finance.corp.example'] } });
    setBackendSrv(backend.srv);
    await makeDataSource().metricFindQuery(' actors : @$dept ');
    expect(backend.requests[0].params).toEqual({ q: '@finance' });
  });

  it('accepts the object form and passes the time range', async () => {
    const backend = fakeBackendSrv({ 'resources/suggest/risk_tags': { values: ['remote_wipe'] } });
    setBackendSrv(backend.srv);
    const range: TimeRange = { from: dateTime(1000), to: dateTime(2000), raw: { from: 'now-1h', to: 'now' } };
    await makeDataSource().metricFindQuery({ field: 'risk_tags' }, { range });
    expect(backend.requests[0].params).toEqual({ from: '1000', to: '2000' });
  });

  it('explains an unknown field', async () => {
    await expect(makeDataSource().metricFindQuery('people')).rejects.toThrow(
      'Unknown variable query "people": use one of vendors, actors, devices, actions, risk_tags'
    );
  });

  it('parses the variable query forms', () => {
    expect(parseVariableQuery('devices')).toEqual({ field: 'devices' });
    expect(parseVariableQuery('devices:C02')).toEqual({ field: 'devices', q: 'C02' });
    expect(parseVariableQuery({ field: 'actions', q: 'wi' })).toEqual({ field: 'actions', q: 'wi' });
    expect(() => parseVariableQuery('')).toThrow('Unknown variable query ""');
  });
});
