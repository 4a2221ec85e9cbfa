/**
 * The query model and the datasource settings shared with the Rust backend
 * (`grafana-datasource/backend`). The JSON written by the editors is exactly these types (camelCase);
 * QUERY_MODEL.md documents every field for the backend's deserializer, and
 * `query-model.schema.json` pins the same rules for the tests.
 */
import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/** What a query returns; the backend dispatches on it. */
export const QUERY_TYPES = ['timeline', 'sql', 'stats', 'episodes', 'annotations', 'narrative'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

/** `risk_level` of a normalized event (vrl-mappings/risk/90_score.vrl). */
export const RISK_LEVELS = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const STATS_METRICS = ['count', 'risk_score_max', 'risk_score_avg', 'distinct_devices'] as const;
export type StatsMetric = (typeof STATS_METRICS)[number];

export const STATS_GROUP_BY = ['none', 'vendor', 'actor', 'action', 'risk_level', 'risk_tag', 'device'] as const;
export type StatsGroupBy = (typeof STATS_GROUP_BY)[number];

export const NARRATIVE_KINDS = [
  'period_summary',
  'incident_timeline',
  'change_review',
  'device_lifecycle',
  'admin_activity',
] as const;
export type NarrativeKind = (typeof NARRATIVE_KINDS)[number];

/** Narrative kinds that cannot run without a subject (device id or serial, actor). */
export const NARRATIVE_KINDS_NEEDING_SUBJECT: readonly NarrativeKind[] = ['device_lifecycle', 'admin_activity'];

/** Fields with suggestions: `GET resources/suggest/{field}` answers `{ values: string[] }`. */
export const SUGGEST_FIELDS = ['vendors', 'actors', 'devices', 'actions', 'risk_tags'] as const;
export type SuggestField = (typeof SUGGEST_FIELDS)[number];

/**
 * Event filters. Within one field the values are alternatives (OR); fields combine with AND.
 * An absent field or an empty list does not filter. String values may be dashboard variables
 * (`$actor`), which the frontend expands before the query is sent (multi-value variables become
 * several values). `riskLevels` is an enum on both sides and takes no variables.
 */
export interface MdmFilters {
  vendors?: string[];
  actors?: string[];
  devices?: string[];
  actions?: string[];
  riskLevels?: RiskLevel[];
  riskTags?: string[];
  /** Case-insensitive substring over the event's message, actor, target and device names. */
  text?: string;
  /** Exactly these events by `event_uid` (the evidence set a narrative citation stands for). */
  eventUids?: string[];
}

export interface MdmStats {
  metric: StatsMetric;
  /** Default `none`: one series. */
  groupBy?: StatsGroupBy;
}

export interface MdmNarrative {
  kind: NarrativeKind;
  /** device_lifecycle: device id or serial; admin_activity: actor; change_review: policy or profile id;
   *  incident_timeline: episode id; period_summary: unused. */
  subject?: string;
}

export interface MdmQuery extends DataQuery {
  queryType: QueryType;
  filters?: MdmFilters;
  /** queryType `sql` only: one read-only SELECT over the `events` table. */
  sql?: string;
  /** queryType `stats` only. */
  stats?: MdmStats;
  /** queryType `narrative` only. */
  narrative?: MdmNarrative;
  /** Row cap (timeline, sql, episodes, annotations) or series cap (stats with a group-by). Default 1000. */
  limit?: number;
}

export const DEFAULT_LIMIT = 1000;
export const DEFAULT_STATS: MdmStats = { metric: 'count', groupBy: 'none' };
export const DEFAULT_NARRATIVE: MdmNarrative = { kind: 'period_summary' };

/** The query a new panel or Explore tab starts with. */
export const DEFAULT_QUERY: Partial<MdmQuery> = {
  queryType: 'timeline',
  limit: DEFAULT_LIMIT,
};

/** The query a new alert rule starts with: alert rules need numbers, which `stats` returns. */
export const DEFAULT_ALERTING_QUERY: Partial<MdmQuery> = {
  queryType: 'stats',
  stats: { metric: 'count', groupBy: 'none' },
  filters: { riskLevels: ['high', 'critical'] },
};

/** The query a new annotation starts with: high and critical events. */
export const DEFAULT_ANNOTATION_QUERY: Partial<MdmQuery> = {
  queryType: 'annotations',
  filters: { riskLevels: ['high', 'critical'] },
  limit: DEFAULT_LIMIT,
};

export const NARRATIVE_MODES = ['template', 'llm'] as const;
export type NarrativeMode = (typeof NARRATIVE_MODES)[number];

export const DEFAULT_STORE_URI = './data';
export const DEFAULT_LLM_TIMEOUT_SECONDS = 30;
export const DEFAULT_NARRATIVE_MODE: NarrativeMode = 'template';

/** Grafana organization roles, lowest first, as the backend's `reviewMinRole` takes them. */
export const REVIEW_ROLES = ['Viewer', 'Editor', 'Admin'] as const;
export type ReviewRole = (typeof REVIEW_ROLES)[number];
export const DEFAULT_REVIEW_MIN_ROLE: ReviewRole = 'Editor';

/** Datasource settings stored in plain text (jsonData). */
export interface MdmDataSourceOptions extends DataSourceJsonData {
  /** Where the store lives: a local directory (default `./data`) or an `s3://bucket/prefix` URI. */
  storeUri?: string;
  /** OpenAI-compatible base URL, e.g. `http://127.0.0.1:8080/v1`. Unset: template narratives only. */
  llmEndpoint?: string;
  llmModel?: string;
  /** Per LLM request; on timeout the template narrator answers. Default 30. */
  llmTimeoutSeconds?: number;
  /** `template` (default, deterministic) or `llm` (falls back to the template on any failure). */
  narrativeMode?: NarrativeMode;
  /** The lowest Grafana role that may approve, edit or reject a narrative. Default `Editor`. */
  reviewMinRole?: ReviewRole;
  /**
   * Object-store settings that are not secret, by object_store's names, e.g. `aws_region`,
   * `aws_endpoint`, `aws_allow_http` (README, "Object storage"). Credentials go in secureJsonData.
   */
  storageOptions?: Record<string, string>;
}

/** Secrets: write-only from the browser, sent only to the backend. */
export interface MdmSecureJsonData {
  llmApiKey?: string;
  storageAccessKey?: string;
  storageSecretKey?: string;
  /** Ed25519 private key (PKCS#8 PEM, from `mdm-audit keygen`) that signs every review's chain head. */
  signingKey?: string;
}

export const SECURE_KEYS = ['llmApiKey', 'storageAccessKey', 'storageSecretKey'] as const satisfies ReadonlyArray<
  keyof MdmSecureJsonData
>;

/** `GET resources/suggest/{field}` response. */
export interface SuggestResponse {
  values: string[];
}

/** `GET resources/schema` response: tables and columns for the SQL editor's completion. */
export interface SchemaResponse {
  tables: Array<{
    name: string;
    columns: Array<{ name: string; type: string; description?: string }>;
  }>;
}

/** Variable query (template variables): a suggest field, optionally narrowed by a substring. */
export interface MdmVariableQuery {
  field: SuggestField;
  q?: string;
}

export function isQueryType(v: unknown): v is QueryType {
  return typeof v === 'string' && (QUERY_TYPES as readonly string[]).includes(v);
}

export function isSuggestField(v: unknown): v is SuggestField {
  return typeof v === 'string' && (SUGGEST_FIELDS as readonly string[]).includes(v);
}

export function isRiskLevel(v: unknown): v is RiskLevel {
  return typeof v === 'string' && (RISK_LEVELS as readonly string[]).includes(v);
}
