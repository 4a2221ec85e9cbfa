import {
  AnnotationSupport,
  CoreApp,
  DataSourceInstanceSettings,
  LegacyMetricFindQueryOptions,
  MetricFindValue,
  ScopedVars,
  TimeRange,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';

import {
  DEFAULT_ALERTING_QUERY,
  DEFAULT_ANNOTATION_QUERY,
  DEFAULT_QUERY,
  isSuggestField,
  MdmDataSourceOptions,
  MdmFilters,
  MdmQuery,
  MdmVariableQuery,
  SchemaResponse,
  SuggestField,
  SUGGEST_FIELDS,
} from './types';

/** A filter value that is one variable reference and nothing else: `$x`, `${x}`, `${x:fmt}`, `[[x]]`. */
const WHOLE_VARIABLE = /^\s*(?:\$\w+|\$\{\w+(?::[^}]*)?\}|\[\[\w+(?::[^\]]*)?\]\])\s*$/;

/** The variable model Grafana (and Scenes) hand to a custom format function. */
interface FormatVariable {
  multi?: boolean;
  includeAll?: boolean;
}

type StringListFilter = 'vendors' | 'actors' | 'devices' | 'actions' | 'riskTags' | 'eventUids';
const STRING_LIST_FILTERS: readonly StringListFilter[] = [
  'vendors',
  'actors',
  'devices',
  'actions',
  'riskTags',
  'eventUids',
];

export class DataSource extends DataSourceWithBackend<MdmQuery, MdmDataSourceOptions> {
  /** Annotations run through the backend like any query; the editor is the QueryEditor. */
  override annotations: AnnotationSupport<MdmQuery> = {
    getDefaultQuery: () => DEFAULT_ANNOTATION_QUERY,
  };

  constructor(instanceSettings: DataSourceInstanceSettings<MdmDataSourceOptions>) {
    super(instanceSettings);
  }

  override getDefaultQuery(app: CoreApp): Partial<MdmQuery> {
    return app === CoreApp.UnifiedAlerting || app === CoreApp.CloudAlerting ? DEFAULT_ALERTING_QUERY : DEFAULT_QUERY;
  }

  /** Skips queries that cannot run yet: hidden ones and an `sql` query without a statement. */
  override filterQuery(query: MdmQuery): boolean {
    if (query.hide) {
      return false;
    }
    if (query.queryType === 'sql') {
      return Boolean(query.sql && query.sql.trim());
    }
    return true;
  }

  /**
   * Expands dashboard variables: in filter lists (a multi-value variable becomes several values),
   * the free-text filter, the SQL statement (values quoted as SQL literals) and the narrative subject.
   */
  override applyTemplateVariables(query: MdmQuery, scopedVars: ScopedVars): MdmQuery {
    const out: MdmQuery = { ...query };
    if (query.filters) {
      out.filters = interpolateFilters(query.filters, scopedVars);
    }
    if (query.sql !== undefined) {
      out.sql = getTemplateSrv().replace(query.sql, scopedVars, sqlFormat);
    }
    if (query.narrative?.subject !== undefined) {
      out.narrative = {
        ...query.narrative,
        subject: getTemplateSrv().replace(query.narrative.subject, scopedVars, 'csv'),
      };
    }
    return out;
  }

  /** Values for a filter picker or a template variable, from `GET resources/suggest/{field}`. */
  async getSuggestions(field: SuggestField, q?: string, range?: TimeRange): Promise<string[]> {
    const params: Record<string, string> = {};
    if (q) {
      params.q = q;
    }
    if (range) {
      params.from = String(range.from.valueOf());
      params.to = String(range.to.valueOf());
    }
    const rsp = await this.getResource<unknown>(`suggest/${field}`, params);
    return parseSuggestResponse(field, rsp);
  }

  /** Tables and columns for the SQL editor, from `GET resources/schema`. */
  async getSchema(): Promise<SchemaResponse> {
    const rsp = await this.getResource<unknown>('schema');
    return parseSchemaResponse(rsp);
  }

  /**
   * Template variables: the variable query is a suggest field (`actors`), optionally narrowed by a
   * substring after a colon (`actors:@corp.example`), or the object form `{ field, q }`.
   */
  override async metricFindQuery(
    query: string | MdmVariableQuery,
    options?: LegacyMetricFindQueryOptions
  ): Promise<MetricFindValue[]> {
    const parsed = parseVariableQuery(query);
    const q = parsed.q ? getTemplateSrv().replace(parsed.q, options?.scopedVars, 'csv') : options?.searchFilter;
    const values = await this.getSuggestions(parsed.field, q || undefined, options?.range);
    return values.map((v) => ({ text: v, value: v }));
  }
}

export function interpolateFilters(filters: MdmFilters, scopedVars: ScopedVars): MdmFilters {
  const out: MdmFilters = { ...filters };
  for (const key of STRING_LIST_FILTERS) {
    const values = filters[key];
    if (values) {
      out[key] = expandList(values, scopedVars);
    }
  }
  if (filters.text !== undefined) {
    out.text = getTemplateSrv().replace(filters.text, scopedVars, 'csv');
  }
  return out;
}

/** Expands each value; a value that is exactly one multi-value variable yields all its values. */
export function expandList(values: string[], scopedVars: ScopedVars): string[] {
  const srv = getTemplateSrv();
  const out: string[] = [];
  for (const value of values) {
    if (WHOLE_VARIABLE.test(value)) {
      const json = srv.replace(value, scopedVars, (v: string | string[]) => JSON.stringify(Array.isArray(v) ? v : [v]));
      out.push(...parseJsonList(json));
    } else {
      out.push(srv.replace(value, scopedVars, 'csv'));
    }
  }
  return Array.from(new Set(out.filter((v) => v !== '')));
}

/** The format function's output, or the text itself when the variable was unknown or has a custom all value. */
function parseJsonList(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) {
      return parsed.map((v) => String(v));
    }
  } catch {
    // not produced by our format function: keep as a literal value
  }
  return [text.trim()];
}

/**
 * SQL interpolation as Grafana's SQL datasources do it: a multi-value or include-all variable
 * becomes a list of quoted literals (`'a','b'`, for `IN ($var)`); a single-value variable is
 * inserted as it is, with single quotes doubled (for `'$var'`).
 */
export function sqlFormat(value: string | string[], variable?: FormatVariable): string {
  const quote = (v: string) => `'${String(v).replace(/'/g, "''")}'`;
  if (Array.isArray(value)) {
    return value.map(quote).join(',');
  }
  if (variable?.multi || variable?.includeAll) {
    return quote(value);
  }
  return String(value).replace(/'/g, "''");
}

export function parseVariableQuery(query: string | MdmVariableQuery): MdmVariableQuery {
  if (typeof query === 'object' && query !== null) {
    if (!isSuggestField(query.field)) {
      throw new Error(variableQueryError(String(query.field)));
    }
    return query.q ? { field: query.field, q: query.q } : { field: query.field };
  }
  const text = String(query ?? '').trim();
  const colon = text.indexOf(':');
  const field = (colon < 0 ? text : text.slice(0, colon)).trim();
  const q = colon < 0 ? '' : text.slice(colon + 1).trim();
  if (!isSuggestField(field)) {
    throw new Error(variableQueryError(field));
  }
  return q ? { field, q } : { field };
}

function variableQueryError(field: string): string {
  return `Unknown variable query "${field}": use one of ${SUGGEST_FIELDS.join(', ')}, optionally followed by :text to narrow it (actors:@corp.example)`;
}

export function parseSuggestResponse(field: SuggestField, rsp: unknown): string[] {
  const values = isObject(rsp) ? rsp.values : undefined;
  if (Array.isArray(values) && values.every((v): v is string => typeof v === 'string')) {
    return values;
  }
  throw new Error(`suggest/${field}: the backend answered without a "values" list of strings`);
}

export function parseSchemaResponse(rsp: unknown): SchemaResponse {
  const tables = isObject(rsp) ? rsp.tables : undefined;
  const valid =
    Array.isArray(tables) &&
    tables.every(
      (t) =>
        isObject(t) &&
        typeof t.name === 'string' &&
        Array.isArray(t.columns) &&
        t.columns.every((c) => isObject(c) && typeof c.name === 'string' && typeof c.type === 'string')
    );
  if (!valid) {
    throw new Error('schema: the backend answered without a "tables" list of named tables with named, typed columns');
  }
  return rsp as unknown as SchemaResponse;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
