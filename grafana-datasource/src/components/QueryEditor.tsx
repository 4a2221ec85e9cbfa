import React, { ChangeEvent, useState } from 'react';

import { CoreApp, QueryEditorProps } from '@grafana/data';
import {
  Alert,
  Combobox,
  InlineField,
  InlineFieldRow,
  Input,
  MultiCombobox,
  RadioButtonGroup,
  Stack,
} from '@grafana/ui';

import { DataSource } from '../datasource';
import VENDORS from '../vendors.json';
import {
  DEFAULT_LIMIT,
  DEFAULT_NARRATIVE,
  DEFAULT_STATS,
  isQueryType,
  MdmDataSourceOptions,
  MdmFilters,
  MdmNarrative,
  MdmQuery,
  MdmStats,
  NARRATIVE_KINDS_NEEDING_SUBJECT,
  QueryType,
  RiskLevel,
  SuggestField,
} from '../types';
import {
  NARRATIVE_KIND_OPTIONS,
  NARRATIVE_SUBJECT_HELP,
  QUERY_TYPE_OPTIONS,
  RISK_LEVEL_OPTIONS,
  STATS_GROUP_BY_OPTIONS,
  STATS_METRIC_OPTIONS,
} from './options';
import { SQL_EXAMPLE, SqlEditor } from './SqlEditor';
import { SuggestPicker } from './SuggestPicker';

export type Props = QueryEditorProps<DataSource, MdmQuery, MdmDataSourceOptions>;

const LABEL_WIDTH = 16;

/** Whether `limit` caps anything: rows, or the series of a grouped stats query. */
function usesLimit(query: MdmQuery, queryType: QueryType): boolean {
  if (queryType === 'stats') {
    return (query.stats?.groupBy ?? 'none') !== 'none';
  }
  return queryType !== 'narrative';
}

/** The vendor filter's hint, from the vendor descriptors (vrl-mappings/sources/<folder>/vendor.toml). */
export const VENDOR_TOOLTIP = `MDM vendors: ${VENDORS.map((v) => v.vendor).join(', ')}`;

type ListFilter = 'vendors' | 'actors' | 'devices' | 'actions' | 'riskTags';
const FILTER_PICKERS: Array<{ key: ListFilter; field: SuggestField; label: string; tooltip: string }> = [
  {
    key: 'vendors',
    field: 'vendors',
    label: 'Vendors',
    tooltip: VENDOR_TOOLTIP,
  },
  {
    key: 'actors',
    field: 'actors',
    label: 'Actors',
    tooltip: 'Who acted: UPN, name or id of an admin, app or API client',
  },
  { key: 'devices', field: 'devices', label: 'Devices', tooltip: 'Device id, serial number or name' },
  {
    key: 'actions',
    field: 'actions',
    label: 'Actions',
    tooltip: 'Canonical verbs: wipe, lock, clear_passcode, assign, ...',
  },
  {
    key: 'riskTags',
    field: 'risk_tags',
    label: 'Risk tags',
    tooltip: 'remote_wipe, role_grant, audit_tamper, bulk_destructive, ...',
  },
];

export function QueryEditor({ query, onChange, onRunQuery, datasource, range, app }: Props) {
  const queryType: QueryType = isQueryType(query.queryType) ? query.queryType : 'timeline';

  const change = (next: MdmQuery, run: boolean) => {
    onChange(next);
    if (run) {
      onRunQuery();
    }
  };

  const onQueryTypeChange = (value: QueryType) => {
    const next: MdmQuery = { ...query, queryType: value };
    if (value === 'stats' && !query.stats) {
      next.stats = { ...DEFAULT_STATS };
    }
    if (value === 'narrative' && !query.narrative) {
      next.narrative = { ...DEFAULT_NARRATIVE };
    }
    if (value === 'sql' && !query.sql?.trim()) {
      next.sql = SQL_EXAMPLE;
    }
    change(next, true);
  };

  const changeFilters = (filters: MdmFilters, run: boolean) =>
    change({ ...query, filters: compactFilters(filters) }, run);
  const filters = query.filters ?? {};

  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={LABEL_WIDTH} tooltip="What the query returns">
          <RadioButtonGroup<QueryType> options={QUERY_TYPE_OPTIONS} value={queryType} onChange={onQueryTypeChange} />
        </InlineField>
      </InlineFieldRow>

      {(app === CoreApp.UnifiedAlerting || app === CoreApp.CloudAlerting) && queryType !== 'stats' && (
        <Alert severity="info" title="Alert rules need numbers">
          Use the Stats query type: it returns one numeric series per group, which alert conditions can evaluate.
        </Alert>
      )}

      {queryType === 'sql' ? (
        <SqlEditor
          id={`mdm-sql-${query.refId}`}
          datasource={datasource}
          value={query.sql ?? ''}
          onCommit={(sql) => {
            if (sql !== query.sql) {
              change({ ...query, sql }, true);
            }
          }}
        />
      ) : (
        <>
          <InlineFieldRow>
            {FILTER_PICKERS.map(({ key, field, label, tooltip }) => (
              <InlineField
                key={key}
                label={label}
                labelWidth={LABEL_WIDTH}
                tooltip={tooltip}
                htmlFor={`mdm-${key}-${query.refId}`}
              >
                <SuggestPicker
                  id={`mdm-${key}-${query.refId}`}
                  field={field}
                  datasource={datasource}
                  range={range}
                  value={filters[key] ?? []}
                  onChange={(values) => changeFilters({ ...filters, [key]: values }, true)}
                />
              </InlineField>
            ))}
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Risk levels"
              labelWidth={LABEL_WIDTH}
              tooltip="Only events at these levels; empty means every level"
              htmlFor={`mdm-riskLevels-${query.refId}`}
            >
              <MultiCombobox<RiskLevel>
                id={`mdm-riskLevels-${query.refId}`}
                options={RISK_LEVEL_OPTIONS}
                value={filters.riskLevels ?? []}
                onChange={(selected) => changeFilters({ ...filters, riskLevels: selected.map((o) => o.value) }, true)}
                placeholder="Any"
                isClearable
                width="auto"
                minWidth={20}
              />
            </InlineField>
            <InlineField
              label="Text"
              labelWidth={LABEL_WIDTH}
              grow
              tooltip="Case-insensitive substring of the message, actor, target or device"
              htmlFor={`mdm-text-${query.refId}`}
            >
              <Input
                id={`mdm-text-${query.refId}`}
                value={filters.text ?? ''}
                placeholder="e.g. DisablePasscode"
                onChange={(e: ChangeEvent<HTMLInputElement>) =>
                  changeFilters({ ...filters, text: e.currentTarget.value }, false)
                }
                onBlur={() => onRunQuery()}
              />
            </InlineField>
          </InlineFieldRow>
        </>
      )}

      {queryType === 'stats' && (
        <StatsEditor
          refId={query.refId}
          stats={query.stats ?? DEFAULT_STATS}
          onChange={(stats) => change({ ...query, stats }, true)}
        />
      )}

      {queryType === 'narrative' && (
        <NarrativeEditor
          refId={query.refId}
          narrative={query.narrative ?? DEFAULT_NARRATIVE}
          onChange={(narrative, run) => change({ ...query, narrative }, run)}
          onRunQuery={onRunQuery}
        />
      )}

      {usesLimit(query, queryType) && (
        <LimitField
          refId={query.refId}
          label={queryType === 'stats' ? 'Max series' : 'Max rows'}
          limit={query.limit}
          onChange={(limit) => change({ ...query, limit }, true)}
        />
      )}
    </Stack>
  );
}

/** Drops empty lists and empty text so that saved queries stay small and mean "no filter". */
export function compactFilters(filters: MdmFilters): MdmFilters | undefined {
  const out: MdmFilters = {};
  for (const [key, value] of Object.entries(filters) as Array<[keyof MdmFilters, MdmFilters[keyof MdmFilters]]>) {
    if (Array.isArray(value) ? value.length > 0 : value !== undefined && value !== '') {
      Object.assign(out, { [key]: value });
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function StatsEditor({ refId, stats, onChange }: { refId: string; stats: MdmStats; onChange: (s: MdmStats) => void }) {
  return (
    <InlineFieldRow>
      <InlineField
        label="Metric"
        labelWidth={LABEL_WIDTH}
        htmlFor={`mdm-metric-${refId}`}
        tooltip="The number per time bucket"
      >
        <Combobox
          id={`mdm-metric-${refId}`}
          options={STATS_METRIC_OPTIONS}
          value={stats.metric}
          onChange={(o) => onChange({ ...stats, metric: o.value })}
          width={30}
        />
      </InlineField>
      <InlineField
        label="Group by"
        labelWidth={LABEL_WIDTH}
        htmlFor={`mdm-groupBy-${refId}`}
        tooltip="One series per value of this field"
      >
        <Combobox
          id={`mdm-groupBy-${refId}`}
          options={STATS_GROUP_BY_OPTIONS}
          value={stats.groupBy ?? 'none'}
          onChange={(o) => onChange({ ...stats, groupBy: o.value })}
          width={30}
        />
      </InlineField>
    </InlineFieldRow>
  );
}

function NarrativeEditor({
  refId,
  narrative,
  onChange,
  onRunQuery,
}: {
  refId: string;
  narrative: MdmNarrative;
  onChange: (n: MdmNarrative, run: boolean) => void;
  onRunQuery: () => void;
}) {
  const needsSubject = NARRATIVE_KINDS_NEEDING_SUBJECT.includes(narrative.kind);
  const missing = needsSubject && !narrative.subject?.trim();
  return (
    <InlineFieldRow>
      <InlineField
        label="Narrative kind"
        labelWidth={LABEL_WIDTH}
        htmlFor={`mdm-kind-${refId}`}
        tooltip="What the narrative tells"
      >
        <Combobox
          id={`mdm-kind-${refId}`}
          options={NARRATIVE_KIND_OPTIONS}
          value={narrative.kind}
          onChange={(o) => onChange({ ...narrative, kind: o.value }, true)}
          width={30}
        />
      </InlineField>
      {narrative.kind !== 'period_summary' && (
        <InlineField
          label="Subject"
          labelWidth={LABEL_WIDTH}
          grow
          htmlFor={`mdm-subject-${refId}`}
          tooltip={`The ${NARRATIVE_SUBJECT_HELP[narrative.kind]}; dashboard variables work`}
          invalid={missing}
          error={
            missing
              ? `This narrative needs a ${NARRATIVE_SUBJECT_HELP[narrative.kind].replace(' (required)', '')}`
              : undefined
          }
        >
          <Input
            id={`mdm-subject-${refId}`}
            value={narrative.subject ?? ''}
            placeholder={NARRATIVE_SUBJECT_HELP[narrative.kind]}
            onChange={(e: ChangeEvent<HTMLInputElement>) => {
              const subject = e.currentTarget.value;
              onChange(subject ? { ...narrative, subject } : { kind: narrative.kind }, false);
            }}
            onBlur={() => onRunQuery()}
          />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}

/** Positive whole number; empty means the default. Invalid input is shown, not sent. */
function LimitField(props: {
  refId: string;
  label: string;
  limit: number | undefined;
  onChange: (limit: number | undefined) => void;
}) {
  // Keyed by the saved limit: when the query changes elsewhere, the text starts over from it.
  return <LimitInput key={String(props.limit)} {...props} />;
}

function LimitInput({
  refId,
  label,
  limit,
  onChange,
}: {
  refId: string;
  label: string;
  limit: number | undefined;
  onChange: (limit: number | undefined) => void;
}) {
  const [text, setText] = useState(limit === undefined ? '' : String(limit));
  const parsed = parseLimit(text);
  return (
    <InlineFieldRow>
      <InlineField
        label={label}
        labelWidth={LABEL_WIDTH}
        htmlFor={`mdm-limit-${refId}`}
        tooltip={`Cap on the result; empty means ${DEFAULT_LIMIT}. The backend may cap lower and says so on the result.`}
        invalid={parsed === 'invalid'}
        error={parsed === 'invalid' ? 'A whole number of at least 1' : undefined}
      >
        <Input
          id={`mdm-limit-${refId}`}
          type="number"
          min={1}
          step={1}
          width={12}
          placeholder={String(DEFAULT_LIMIT)}
          value={text}
          onChange={(e: ChangeEvent<HTMLInputElement>) => setText(e.currentTarget.value)}
          onBlur={() => {
            if (parsed !== 'invalid' && parsed !== limit) {
              onChange(parsed);
            }
          }}
        />
      </InlineField>
    </InlineFieldRow>
  );
}

export function parseLimit(text: string): number | undefined | 'invalid' {
  const trimmed = text.trim();
  if (trimmed === '') {
    return undefined;
  }
  const n = Number(trimmed);
  return Number.isInteger(n) && n >= 1 ? n : 'invalid';
}
