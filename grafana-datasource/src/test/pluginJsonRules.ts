/**
 * The rules of Grafana's plugin.json schema that apply to a datasource plugin, restated as a JSON
 * Schema (draft-07) for ajv. Source: grafana/grafana, docs/sources/developers/plugins/plugin.schema.json
 * (read at commit 021371ce6188d520574474e9024feeabd1868ebb): the required fields, the id pattern,
 * the type and category enums, info (logos, version, updated, keywords), dependencies
 * (grafanaDependency and its pattern), queryOptions and the set of top-level keys. Descriptions and
 * the properties of other plugin types (routes, includes, ...) are left out; `routes` and
 * `includes` are not allowed here at all, since this plugin has none.
 *
 * Two rules the schema states only in its descriptions are added: `alerting` "requires `backend`
 * to be set to `true`", and a backend plugin names its `executable` (Grafana looks for
 * `<executable>_<os>_<arch>`).
 */
export const PLUGIN_JSON_RULES = {
  $schema: 'http://json-schema.org/draft-07/schema',
  type: 'object',
  required: ['type', 'name', 'id', 'info', 'dependencies'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    id: { type: 'string', pattern: '^[0-9a-z]+\\-([0-9a-z]+\\-)?(app|panel|datasource|secretsmanager|transformer)$' },
    type: { type: 'string', enum: ['app', 'datasource', 'panel', 'renderer', 'secretsmanager', 'transformer'] },
    name: { type: 'string' },
    category: {
      type: 'string',
      enum: ['tsdb', 'logging', 'cloud', 'tracing', 'profiling', 'sql', 'enterprise', 'iot', 'other'],
    },
    alerting: { type: 'boolean' },
    annotations: { type: 'boolean' },
    backend: { type: 'boolean' },
    executable: { type: 'string' },
    logs: { type: 'boolean' },
    metrics: { type: 'boolean' },
    streaming: { type: 'boolean' },
    tracing: { type: 'boolean' },
    state: { type: 'string', enum: ['alpha', 'beta'] },
    queryOptions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxDataPoints: { type: 'boolean' },
        minInterval: { type: 'boolean' },
        cacheTimeout: { type: 'boolean' },
      },
    },
    info: {
      type: 'object',
      required: ['logos', 'version', 'updated', 'keywords'],
      additionalProperties: false,
      properties: {
        author: {
          type: 'object',
          additionalProperties: false,
          properties: { name: { type: 'string' }, email: { type: 'string' }, url: { type: 'string' } },
        },
        description: { type: 'string' },
        keywords: { type: 'array', minItems: 1, items: { type: 'string' } },
        links: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: { name: { type: 'string' }, url: { type: 'string' } },
          },
        },
        logos: {
          type: 'object',
          required: ['small', 'large'],
          additionalProperties: false,
          properties: { small: { type: 'string' }, large: { type: 'string' } },
        },
        screenshots: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: { name: { type: 'string' }, path: { type: 'string' } },
          },
        },
        updated: { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2}|\\%TODAY\\%)$' },
        version: { type: 'string', pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)|(\\%VERSION\\%)$' },
      },
    },
    dependencies: {
      type: 'object',
      required: ['grafanaDependency'],
      additionalProperties: false,
      properties: {
        grafanaDependency: {
          type: 'string',
          pattern:
            '^(<=|>=|<|>|=|~|\\^)?([0-9]+)(\\.[0-9x\\*]+)(\\.[0-9x\\*]+)?(\\s(<=|>=|<|=>)?([0-9]+)(\\.[0-9x]+)(\\.[0-9x]+))?$',
        },
        plugins: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'name', 'type', 'version'],
            properties: {
              id: { type: 'string', pattern: '^[0-9a-z]+\\-([0-9a-z]+\\-)?(app|panel|datasource|secretsmanager)$' },
              type: { type: 'string', enum: ['app', 'datasource', 'panel', 'secretsmanager'] },
              name: { type: 'string' },
              version: { type: 'string' },
            },
          },
        },
      },
    },
  },
  allOf: [
    {
      if: { properties: { alerting: { const: true } }, required: ['alerting'] },
      then: { properties: { backend: { const: true } }, required: ['backend'] },
    },
    { if: { properties: { backend: { const: true } }, required: ['backend'] }, then: { required: ['executable'] } },
  ],
} as const;
