import { DEFAULT_ALERTING_QUERY, DEFAULT_ANNOTATION_QUERY, DEFAULT_QUERY, MdmQuery } from '../types';

/**
 * The queries written to fixtures/queries/<name>.json (fixtures/README.md says what each is for).
 * The Rust backend deserializes every one of them in a test, so together they use every field and
 * every enum value of the query model. `src/queryModel.test.ts` keeps the files equal to this list;
 * `UPDATE_FIXTURES=1 npx jest src/queryModel.test.ts` rewrites them.
 */
/** A query with the top-level keys Grafana's frontend adds when it sends it. */
type SentQuery = MdmQuery & { datasourceId?: number; intervalMs?: number; maxDataPoints?: number };

export const QUERY_FIXTURES: Record<string, SentQuery> = {
  default: { refId: 'A', ...DEFAULT_QUERY } as MdmQuery,
  annotations_default: { refId: 'Anno', ...DEFAULT_ANNOTATION_QUERY } as MdmQuery,
  alerting_default: { refId: 'A', ...DEFAULT_ALERTING_QUERY } as MdmQuery,
  timeline_all_filters: {
    refId: 'A',
    queryType: 'timeline',
    filters: {
      vendors: ['jamf', 'microsoft', 'omnissa'],
      actors: ['admin@corp.example'],
      devices: ['C02XK1JHJG5H'],
      actions: ['wipe', 'clear_passcode'],
      riskLevels: ['none', 'low', 'medium', 'high', 'critical'],
      riskTags: ['remote_wipe', 'passcode_cleared'],
      text: 'DisablePasscode',
    },
    limit: 200,
  },
  timeline_evidence_set: {
    refId: 'A',
    queryType: 'timeline',
    filters: {
      eventUids: ['jamf:3f1c2b1e9a7d4c21:0', 'jamf:3f1c2b1e9a7d4c21:1'],
    },
    limit: 1000,
  },
  timeline_as_sent_by_grafana: {
    refId: 'A',
    queryType: 'timeline',
    filters: { riskLevels: ['high', 'critical'] },
    limit: 1000,
    datasource: { type: 'mdm-audit-datasource', uid: 'mdm-audit' },
    datasourceId: 3,
    intervalMs: 60000,
    maxDataPoints: 1200,
    hide: false,
    key: 'Q-6c6b5e4a-0b1e-4c43-9d2b-000000000001-0',
  },
  sql: {
    refId: 'A',
    queryType: 'sql',
    sql: "SELECT actor_upn, count(*) AS n FROM events WHERE risk_level IN ('high', 'critical') GROUP BY actor_upn ORDER BY n DESC",
    limit: 100,
  },
  stats_count: { refId: 'A', queryType: 'stats', stats: { metric: 'count' } },
  stats_count_by_vendor: {
    refId: 'A',
    queryType: 'stats',
    stats: { metric: 'count', groupBy: 'vendor' },
    filters: { riskLevels: ['high', 'critical'] },
  },
  stats_risk_score_max_by_actor: {
    refId: 'A',
    queryType: 'stats',
    stats: { metric: 'risk_score_max', groupBy: 'actor' },
    limit: 10,
  },
  stats_risk_score_avg_by_action: {
    refId: 'A',
    queryType: 'stats',
    stats: { metric: 'risk_score_avg', groupBy: 'action' },
  },
  stats_distinct_devices_by_risk_level: {
    refId: 'A',
    queryType: 'stats',
    stats: { metric: 'distinct_devices', groupBy: 'risk_level' },
  },
  stats_count_by_risk_tag: {
    refId: 'A',
    queryType: 'stats',
    stats: { metric: 'count', groupBy: 'risk_tag' },
    filters: { riskTags: ['remote_wipe', 'mdm_removed'] },
  },
  stats_count_by_device: { refId: 'A', queryType: 'stats', stats: { metric: 'count', groupBy: 'device' }, limit: 20 },
  stats_count_none: { refId: 'A', queryType: 'stats', stats: { metric: 'count', groupBy: 'none' } },
  episodes: { refId: 'A', queryType: 'episodes', filters: { actors: ['admin@corp.example'] }, limit: 50 },
  annotations: { refId: 'Anno', queryType: 'annotations', filters: { riskTags: ['remote_wipe'] } },
  narrative_period_summary: { refId: 'A', queryType: 'narrative', narrative: { kind: 'period_summary' } },
  narrative_incident_timeline: {
    refId: 'A',
    queryType: 'narrative',
    narrative: { kind: 'incident_timeline', subject: 'ep-2024-05-01-bulk-wipe' },
  },
  narrative_change_review: {
    refId: 'A',
    queryType: 'narrative',
    narrative: { kind: 'change_review' },
    filters: { vendors: ['microsoft'] },
  },
  narrative_device_lifecycle: {
    refId: 'A',
    queryType: 'narrative',
    narrative: { kind: 'device_lifecycle', subject: 'C02XK1JHJG5H' },
  },
  narrative_admin_activity: {
    refId: 'A',
    queryType: 'narrative',
    narrative: { kind: 'admin_activity', subject: 'admin@corp.example' },
  },
};

/**
 * Queries the backend must refuse, written to fixtures/queries-invalid/<name>.json; `reason` is what
 * the schema test expects ajv to say (the Rust side words its own errors).
 */
export const INVALID_QUERY_FIXTURES: Record<string, { query: unknown; reason: string }> = {
  unknown_query_type: {
    query: { refId: 'A', queryType: 'logs' },
    reason: '/queryType must be equal to one of the allowed values',
  },
  unknown_risk_level: {
    query: { refId: 'A', queryType: 'timeline', filters: { riskLevels: ['severe'] } },
    reason: '/filters/riskLevels/0 must be equal to one of the allowed values',
  },
  unknown_filter_field: {
    query: { refId: 'A', queryType: 'timeline', filters: { vendor: ['jamf'] } },
    reason: '/filters must NOT have additional properties',
  },
  stats_without_metric: {
    query: { refId: 'A', queryType: 'stats', stats: { groupBy: 'actor' } },
    reason: "/stats must have required property 'metric'",
  },
  narrative_unknown_kind: {
    query: { refId: 'A', queryType: 'narrative', narrative: { kind: 'weekly_digest' } },
    reason: '/narrative/kind must be equal to one of the allowed values',
  },
  limit_zero: { query: { refId: 'A', queryType: 'timeline', limit: 0 }, reason: '/limit must be >= 1' },
  limit_not_integer: { query: { refId: 'A', queryType: 'timeline', limit: 10.5 }, reason: '/limit must be integer' },
  filter_value_not_string: {
    query: { refId: 'A', queryType: 'timeline', filters: { actors: [42] } },
    reason: '/filters/actors/0 must be string',
  },
};
