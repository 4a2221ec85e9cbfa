/**
 * @jest-environment node
 */
import Ajv from 'ajv';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import path from 'path';

import schema from '../query-model.schema.json';
import { INVALID_QUERY_FIXTURES, QUERY_FIXTURES } from './test/queryFixtures';
import {
  DEFAULT_QUERY,
  NARRATIVE_KINDS,
  QUERY_TYPES,
  RISK_LEVELS,
  STATS_GROUP_BY,
  STATS_METRICS,
  MdmQuery,
} from './types';

const ROOT = path.join(__dirname, '..');
const VALID_DIR = path.join(ROOT, 'fixtures', 'queries');
const INVALID_DIR = path.join(ROOT, 'fixtures', 'queries-invalid');

const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const errorsOf = (q: unknown) =>
  validate(q) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);

const toFile = (q: unknown) => JSON.stringify(q, null, 2) + '\n';

function readDir(dir: string): Record<string, unknown> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(dir, f), 'utf8'))])
  );
}

const INVALID_QUERIES = Object.fromEntries(Object.entries(INVALID_QUERY_FIXTURES).map(([n, f]) => [n, f.query]));

if (process.env.UPDATE_FIXTURES) {
  for (const [dir, fixtures] of [
    [VALID_DIR, QUERY_FIXTURES],
    [INVALID_DIR, INVALID_QUERIES],
  ] as const) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      writeFileSync(path.join(dir, f), ''); // a stale file fails the comparison below until removed
    }
    for (const [name, q] of Object.entries(fixtures)) {
      writeFileSync(path.join(dir, `${name}.json`), toFile(q));
    }
  }
}

describe('query fixtures for the Rust deserializer', () => {
  it('fixtures/queries holds exactly the fixture list, byte for byte', () => {
    const names = readdirSync(VALID_DIR).filter((f) => f.endsWith('.json'));
    expect(names.sort()).toEqual(
      Object.keys(QUERY_FIXTURES)
        .map((n) => `${n}.json`)
        .sort()
    );
    for (const [name, q] of Object.entries(QUERY_FIXTURES)) {
      expect(readFileSync(path.join(VALID_DIR, `${name}.json`), 'utf8')).toBe(toFile(q));
    }
  });

  it('fixtures/queries-invalid holds exactly the invalid list', () => {
    expect(readDir(INVALID_DIR)).toEqual(INVALID_QUERIES);
  });

  it('the default query is a fixture', () => {
    expect(QUERY_FIXTURES.default).toEqual({ refId: 'A', ...DEFAULT_QUERY });
  });

  it.each(Object.entries(QUERY_FIXTURES))('%s follows query-model.schema.json', (_name, q) => {
    expect(errorsOf(q)).toEqual([]);
  });

  it.each(Object.entries(INVALID_QUERY_FIXTURES))('%s is refused by the schema', (_name, { query, reason }) => {
    expect(errorsOf(query).join('\n')).toContain(reason);
  });

  it('together they use every query type and every enum value', () => {
    const queries = Object.values(QUERY_FIXTURES) as MdmQuery[];
    const used = (pick: (q: MdmQuery) => Array<string | undefined>) => new Set(queries.flatMap(pick));
    expect(used((q) => [q.queryType])).toEqual(new Set(QUERY_TYPES));
    expect(used((q) => q.filters?.riskLevels ?? [])).toEqual(new Set(RISK_LEVELS));
    expect([...used((q) => [q.stats?.metric])].filter(Boolean).sort()).toEqual([...STATS_METRICS].sort());
    expect([...used((q) => [q.stats?.groupBy])].filter(Boolean).sort()).toEqual([...STATS_GROUP_BY].sort());
    expect([...used((q) => [q.narrative?.kind])].filter(Boolean).sort()).toEqual([...NARRATIVE_KINDS].sort());
    const fields = used((q) => [...Object.keys(q), ...Object.keys(q.filters ?? {})]);
    for (const f of [
      'filters',
      'sql',
      'stats',
      'narrative',
      'limit',
      'vendors',
      'actors',
      'devices',
      'actions',
      'riskLevels',
      'riskTags',
      'text',
      'eventUids',
    ]) {
      expect(fields).toContain(f);
    }
  });
});

describe('query-model.schema.json matches src/types.ts', () => {
  const props = schema.properties;
  it('has the same enums', () => {
    expect(props.queryType.enum).toEqual([...QUERY_TYPES]);
    expect(props.filters.properties.riskLevels.items.enum).toEqual([...RISK_LEVELS]);
    expect(props.stats.properties.metric.enum).toEqual([...STATS_METRICS]);
    expect(props.stats.properties.groupBy.enum).toEqual([...STATS_GROUP_BY]);
    expect(props.narrative.properties.kind.enum).toEqual([...NARRATIVE_KINDS]);
  });
});

describe('QUERY_MODEL.md documents the model', () => {
  const doc = readFileSync(path.join(ROOT, 'QUERY_MODEL.md'), 'utf8');
  const names = [
    ...Object.keys(schema.properties),
    ...Object.keys(schema.properties.filters.properties),
    ...Object.keys(schema.properties.stats.properties),
    ...Object.keys(schema.properties.narrative.properties),
    ...QUERY_TYPES,
    ...RISK_LEVELS,
    ...STATS_METRICS,
    ...STATS_GROUP_BY,
    ...NARRATIVE_KINDS,
    // settings
    'storeUri',
    'llmEndpoint',
    'llmModel',
    'llmTimeoutSeconds',
    'narrativeMode',
    'storageOptions',
    'llmApiKey',
    'storageAccessKey',
    'storageSecretKey',
  ];
  it.each(names)('mentions `%s`', (name) => {
    expect(doc).toContain('`' + name + '`');
  });

  it('lists every fixture', () => {
    const readme = readFileSync(path.join(ROOT, 'fixtures', 'README.md'), 'utf8');
    for (const name of [...Object.keys(QUERY_FIXTURES), ...Object.keys(INVALID_QUERY_FIXTURES)]) {
      expect(readme).toContain('`' + name + '.json`');
    }
  });
});
