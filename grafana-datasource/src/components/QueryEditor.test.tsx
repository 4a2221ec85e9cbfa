import React, { useState } from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { CoreApp, dateTime, TimeRange } from '@grafana/data';
import { setTemplateSrv } from '@grafana/runtime';

import { DataSource } from '../datasource';
import { FakeTemplateSrv } from '../test/fakeTemplateSrv';
import { takeConsoleNoise } from '../test/console';
import { makeDataSource } from '../test/settings';
import { withElementSize } from '../test/size';
import { MdmQuery } from '../types';
import { compactFilters, parseLimit, QueryEditor, VENDOR_TOOLTIP } from './QueryEditor';
import { SQL_EXAMPLE, sqlSuggestions } from './SqlEditor';

// Monaco does not run in jsdom: a textarea stands in for the SQL editor, with the same callbacks.
jest.mock('@grafana/ui', () => {
  const actual = jest.requireActual('@grafana/ui');
  return {
    ...actual,
    CodeEditor: ({ value, onBlur }: { value: string; onBlur?: (v: string) => void }) => (
      <textarea aria-label="SQL editor" defaultValue={value} onBlur={(e) => onBlur?.(e.currentTarget.value)} />
    ),
  };
});

withElementSize();

const range: TimeRange = { from: dateTime(1000), to: dateTime(2000), raw: { from: 'now-6h', to: 'now' } };

function setup(initial: MdmQuery, suggestions: Record<string, string[]> = {}, app?: CoreApp) {
  const datasource: DataSource = makeDataSource();
  const getSuggestions = jest
    .spyOn(datasource, 'getSuggestions')
    .mockImplementation(async (field, q) => (suggestions[field] ?? []).filter((v) => !q || v.includes(q)));
  jest.spyOn(datasource, 'getSchema').mockResolvedValue({ tables: [] });
  const onChange = jest.fn();
  const onRunQuery = jest.fn();

  // Grafana feeds each change back as the new query; so does this wrapper.
  function Stateful() {
    const [query, setQuery] = useState<MdmQuery>(initial);
    return (
      <QueryEditor
        datasource={datasource}
        query={query}
        range={range}
        app={app}
        onChange={(q) => {
          onChange(q);
          setQuery(q);
        }}
        onRunQuery={onRunQuery}
      />
    );
  }
  render(<Stateful />);
  return { datasource, getSuggestions, onChange, onRunQuery, lastQuery: (): MdmQuery => onChange.mock.lastCall?.[0] };
}

beforeEach(() => {
  setTemplateSrv(new FakeTemplateSrv({ actor: { value: 'alice@corp.example' }, device: { value: 'C02XK1' } }));
});

describe('query type', () => {
  it('shows a query without a type as a timeline', () => {
    setup({ refId: 'A' } as MdmQuery);
    expect(screen.getByRole('radio', { name: 'Timeline' })).toBeChecked();
  });

  it('switching to stats sets the default metric and runs the query', async () => {
    const { onChange, onRunQuery } = setup({ refId: 'A', queryType: 'timeline', limit: 50 });
    await userEvent.click(screen.getByRole('radio', { name: 'Stats' }));
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'A',
      queryType: 'stats',
      limit: 50,
      stats: { metric: 'count', groupBy: 'none' },
    });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.getByLabelText('Metric')).toBeInTheDocument();
    // One series: nothing to cap.
    expect(screen.queryByLabelText('Max series')).not.toBeInTheDocument();
  });

  it('switching to narrative starts with a period summary and hides the row cap', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: 'timeline' });
    await userEvent.click(screen.getByRole('radio', { name: 'Narrative' }));
    expect(lastQuery()).toEqual({ refId: 'A', queryType: 'narrative', narrative: { kind: 'period_summary' } });
    expect(screen.queryByLabelText('Max rows')).not.toBeInTheDocument();
  });

  it('switching to SQL offers an example statement and replaces the filters by the SQL editor', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: 'timeline', filters: { vendors: ['jamf'] } });
    expect(screen.getByLabelText('Vendors')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('radio', { name: 'SQL' }));
    expect(lastQuery()).toMatchObject({ queryType: 'sql', sql: SQL_EXAMPLE });
    expect(screen.queryByLabelText('Vendors')).not.toBeInTheDocument();
    expect(screen.getByLabelText('SQL editor')).toHaveValue(SQL_EXAMPLE);
  });

  it('keeps a statement that is already there', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: 'timeline', sql: 'SELECT 1' });
    await userEvent.click(screen.getByRole('radio', { name: 'SQL' }));
    expect(lastQuery().sql).toBe('SELECT 1');
  });
});

describe('alert rules', () => {
  it('point to the stats query type when another is chosen', async () => {
    setup({ refId: 'A', queryType: 'timeline' }, {}, CoreApp.UnifiedAlerting);
    expect(screen.getByText('Alert rules need numbers')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('radio', { name: 'Stats' }));
    expect(screen.queryByText('Alert rules need numbers')).not.toBeInTheDocument();
  });

  it('say nothing of it on dashboards', () => {
    setup({ refId: 'A', queryType: 'timeline' }, {}, CoreApp.PanelEditor);
    expect(screen.queryByText('Alert rules need numbers')).not.toBeInTheDocument();
  });
});

describe('filters', () => {
  it('offers the backend suggestions and the dashboard variables, and selecting one filters', async () => {
    const { getSuggestions, lastQuery, onRunQuery } = setup(
      { refId: 'A', queryType: 'timeline' },
      { actors: ['alice@corp.example', 'bob@corp.example'] }
    );
    await userEvent.click(screen.getByLabelText('Actors'));
    expect(await screen.findByRole('option', { name: /bob@corp\.example/ })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: /\$actor/ })).toBeInTheDocument();
    expect(getSuggestions).toHaveBeenCalledWith('actors', undefined, range);

    await userEvent.click(screen.getByRole('option', { name: /bob@corp\.example/ }));
    expect(lastQuery().filters).toEqual({ actors: ['bob@corp.example'] });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('asks the backend again with what the user types', async () => {
    const { getSuggestions } = setup({ refId: 'A', queryType: 'episodes' }, { devices: ['C02XK1', 'FVFZ99'] });
    await userEvent.type(screen.getByLabelText('Devices'), 'FVF');
    await waitFor(() => expect(getSuggestions).toHaveBeenLastCalledWith('devices', 'FVF', range));
    expect(await screen.findByRole('option', { name: /FVFZ99/ })).toBeInTheDocument();
    expect(screen.queryByRole('option', { name: /C02XK1/ })).not.toBeInTheDocument();
  });

  it('uses the risk-tag suggest field for risk tags', async () => {
    const { getSuggestions } = setup({ refId: 'A', queryType: 'timeline' }, { risk_tags: ['remote_wipe'] });
    await userEvent.click(screen.getByLabelText('Risk tags'));
    expect(await screen.findByRole('option', { name: /remote_wipe/ })).toBeInTheDocument();
    expect(getSuggestions).toHaveBeenCalledWith('risk_tags', undefined, range);
  });

  it('shows the saved values', () => {
    setup({ refId: 'A', queryType: 'timeline', filters: { vendors: ['jamf'], actors: ['$actor'] } });
    expect(screen.getByRole('button', { name: 'Remove jamf' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Remove $actor' })).toBeInTheDocument();
  });

  it('filters on risk levels from the fixed list', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: 'annotations', filters: { riskLevels: ['high'] } });
    await userEvent.click(screen.getByLabelText('Risk levels'));
    await userEvent.click(await screen.findByRole('option', { name: /critical/ }));
    expect(lastQuery().filters).toEqual({ riskLevels: ['high', 'critical'] });
  });

  it('edits the text filter without running, and runs on blur', async () => {
    const { lastQuery, onRunQuery } = setup({ refId: 'A', queryType: 'timeline' });
    await userEvent.type(screen.getByLabelText('Text'), 'DisablePasscode');
    expect(lastQuery().filters).toEqual({ text: 'DisablePasscode' });
    expect(onRunQuery).not.toHaveBeenCalled();
    await userEvent.tab();
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('drops a filter that becomes empty', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: 'timeline', filters: { text: 'x' } });
    await userEvent.clear(screen.getByLabelText('Text'));
    expect(lastQuery().filters).toBeUndefined();
  });

  it('compacts filters to what filters', () => {
    expect(compactFilters({ actors: [], text: '', vendors: ['jamf'] })).toEqual({ vendors: ['jamf'] });
    expect(compactFilters({ riskLevels: [] })).toBeUndefined();
  });

  it('shows the backend error when suggestions fail', async () => {
    const { getSuggestions } = setup({ refId: 'A', queryType: 'timeline' });
    getSuggestions.mockRejectedValue(new Error('store unreachable'));
    await userEvent.click(screen.getByLabelText('Actions'));
    expect(await screen.findByText(/error occurred while loading options/i)).toBeInTheDocument();
    // Grafana's Combobox also logs the failure.
    expect(takeConsoleNoise()).toEqual([
      'console.error: Error loading async options for Combobox Error: store unreachable',
    ]);
  });
});

describe('sql', () => {
  it('commits the statement on blur and runs it', async () => {
    const { lastQuery, onRunQuery } = setup({ refId: 'A', queryType: 'sql', sql: 'SELECT 1' });
    const editor = screen.getByLabelText('SQL editor');
    await userEvent.clear(editor);
    await userEvent.type(editor, 'SELECT count(*) FROM events');
    await userEvent.tab();
    expect(lastQuery()).toEqual({ refId: 'A', queryType: 'sql', sql: 'SELECT count(*) FROM events' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('completes tables, columns and dashboard variables', () => {
    const items = sqlSuggestions({
      tables: [{ name: 'events', columns: [{ name: 'actor_upn', type: 'Utf8', description: 'who acted' }] }],
    });
    expect(items.map((i) => i.label)).toEqual(['events', 'actor_upn', '$actor', '$device']);
    expect(items[1]).toMatchObject({ detail: 'events.actor_upn: Utf8', documentation: 'who acted' });
  });
});

describe('stats', () => {
  it('changes the group-by', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: 'stats', stats: { metric: 'risk_score_max' } });
    await userEvent.click(screen.getByLabelText('Group by'));
    await userEvent.click(await screen.findByRole('option', { name: 'Actor' }));
    expect(lastQuery().stats).toEqual({ metric: 'risk_score_max', groupBy: 'actor' });
    expect(screen.getByLabelText('Max series')).toBeInTheDocument();
  });

  it('changes the metric', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: 'stats', stats: { metric: 'count', groupBy: 'vendor' } });
    await userEvent.click(screen.getByLabelText('Metric'));
    await userEvent.click(await screen.findByRole('option', { name: 'Distinct devices' }));
    expect(lastQuery().stats).toEqual({ metric: 'distinct_devices', groupBy: 'vendor' });
  });
});

describe('narrative', () => {
  it('asks for the subject a device lifecycle needs', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: 'narrative', narrative: { kind: 'device_lifecycle' } });
    expect(screen.getByText('This narrative needs a device id or serial number')).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('Subject'), '$device');
    expect(lastQuery().narrative).toEqual({ kind: 'device_lifecycle', subject: '$device' });
    expect(screen.queryByText(/This narrative needs/)).not.toBeInTheDocument();
  });

  it('changes the kind and hides the subject for a period summary', async () => {
    const { lastQuery } = setup({
      refId: 'A',
      queryType: 'narrative',
      narrative: { kind: 'admin_activity', subject: 'x' },
    });
    await userEvent.click(screen.getByLabelText('Narrative kind'));
    await userEvent.click(await screen.findByRole('option', { name: /Period summary/ }));
    expect(lastQuery().narrative).toEqual({ kind: 'period_summary', subject: 'x' });
    expect(screen.queryByLabelText('Subject')).not.toBeInTheDocument();
  });
});

describe('limit', () => {
  it('commits a whole number on blur', async () => {
    const { lastQuery, onRunQuery } = setup({ refId: 'A', queryType: 'timeline', limit: 1000 });
    const input = screen.getByLabelText('Max rows');
    await userEvent.clear(input);
    await userEvent.type(input, '250');
    expect(onRunQuery).not.toHaveBeenCalled();
    await userEvent.tab();
    expect(lastQuery().limit).toBe(250);
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('refuses zero and says why', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'episodes', limit: 10 });
    const input = screen.getByLabelText('Max rows');
    await userEvent.clear(input);
    await userEvent.type(input, '0');
    await userEvent.tab();
    expect(screen.getByText('A whole number of at least 1')).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('parses limits', () => {
    expect(parseLimit('')).toBeUndefined();
    expect(parseLimit(' 42 ')).toBe(42);
    expect(parseLimit('1.5')).toBe('invalid');
    expect(parseLimit('-3')).toBe('invalid');
  });

  it('names the vendors of the descriptors (src/vendors.json) in the vendor filter hint', () => {
    expect(VENDOR_TOOLTIP).toBe('MDM vendors: jamf, microsoft, omnissa');
  });
});
