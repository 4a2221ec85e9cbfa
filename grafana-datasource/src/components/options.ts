import { SelectableValue } from '@grafana/data';
import { ComboboxOption } from '@grafana/ui';

import { NarrativeKind, QueryType, RiskLevel, StatsGroupBy, StatsMetric } from '../types';

/** Labels and help for every enum value the editors offer, in the order they are shown. */
export const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = [
  { value: 'timeline', label: 'Timeline', description: 'Events, newest first, with their risk fields' },
  { value: 'stats', label: 'Stats', description: 'Numeric series over time; works in alert rules' },
  { value: 'episodes', label: 'Episodes', description: 'Correlated events: bulk actions, rollouts, admin sessions' },
  { value: 'narrative', label: 'Narrative', description: 'What happened, in sentences that cite their events' },
  { value: 'annotations', label: 'Annotations', description: 'Events to mark on time series panels' },
  { value: 'sql', label: 'SQL', description: 'A read-only SELECT over the events table' },
];

export const RISK_LEVEL_OPTIONS: Array<ComboboxOption<RiskLevel>> = [
  { value: 'critical', label: 'critical', description: 'risk score 85-100' },
  { value: 'high', label: 'high', description: 'risk score 60-84' },
  { value: 'medium', label: 'medium', description: 'risk score 30-59' },
  { value: 'low', label: 'low', description: 'risk score 1-29' },
  { value: 'none', label: 'none', description: 'risk score 0' },
];

export const STATS_METRIC_OPTIONS: Array<ComboboxOption<StatsMetric>> = [
  { value: 'count', label: 'Event count' },
  { value: 'risk_score_max', label: 'Max risk score' },
  { value: 'risk_score_avg', label: 'Average risk score' },
  { value: 'distinct_devices', label: 'Distinct devices' },
];

export const STATS_GROUP_BY_OPTIONS: Array<ComboboxOption<StatsGroupBy>> = [
  { value: 'none', label: 'None (one series)' },
  { value: 'vendor', label: 'Vendor' },
  { value: 'actor', label: 'Actor' },
  { value: 'action', label: 'Action' },
  { value: 'risk_level', label: 'Risk level' },
  { value: 'risk_tag', label: 'Risk tag' },
  { value: 'device', label: 'Device' },
];

export const NARRATIVE_KIND_OPTIONS: Array<ComboboxOption<NarrativeKind>> = [
  { value: 'period_summary', label: 'Period summary', description: 'Everything notable in the time range' },
  { value: 'incident_timeline', label: 'Incident timeline', description: 'One episode, or every high-risk episode' },
  { value: 'change_review', label: 'Change review', description: 'Policy and profile changes and who approved them' },
  { value: 'device_lifecycle', label: 'Device lifecycle', description: 'Enrollment to retirement of one device' },
  { value: 'admin_activity', label: 'Admin activity', description: 'What one administrator did' },
];

/** What the subject of each narrative kind is, for the subject field's placeholder and help. */
export const NARRATIVE_SUBJECT_HELP: Record<NarrativeKind, string> = {
  period_summary: 'not used',
  incident_timeline: 'episode id (optional: every high-risk episode when empty)',
  change_review: 'policy or profile id (optional: every change when empty)',
  device_lifecycle: 'device id or serial number (required)',
  admin_activity: 'actor: UPN, name or id (required)',
};
