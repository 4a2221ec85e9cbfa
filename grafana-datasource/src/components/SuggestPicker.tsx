import React, { useCallback } from 'react';

import { TimeRange } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { ComboboxOption, MultiCombobox } from '@grafana/ui';

import { DataSource } from '../datasource';
import { SuggestField } from '../types';

interface Props {
  id: string;
  field: SuggestField;
  datasource: DataSource;
  value: string[];
  onChange: (values: string[]) => void;
  range?: TimeRange;
  placeholder?: string;
}

/**
 * A multi-value picker whose options come from the backend (`suggest/{field}`, narrowed by what the
 * user types) followed by the dashboard's variables. Values that are not offered can be typed in.
 */
export function SuggestPicker({ id, field, datasource, value, onChange, range, placeholder }: Props) {
  const loadOptions = useCallback(
    async (input: string): Promise<Array<ComboboxOption<string>>> => {
      const values = await datasource.getSuggestions(field, input || undefined, range);
      const variables = variableOptions(input);
      return [...values.map((v) => ({ value: v, label: v })), ...variables];
    },
    [datasource, field, range]
  );

  return (
    <MultiCombobox<string>
      id={id}
      options={loadOptions}
      value={value}
      onChange={(selected) => onChange(selected.map((o) => o.value))}
      createCustomValue
      isClearable
      placeholder={placeholder ?? 'Any'}
      width="auto"
      minWidth={30}
      maxWidth={80}
    />
  );
}

/** Dashboard variables as `$name` options, filtered by the typed text. */
export function variableOptions(input: string): Array<ComboboxOption<string>> {
  const needle = input.toLowerCase();
  return getTemplateSrv()
    .getVariables()
    .map((v) => `$${v.name}`)
    .filter((name) => name.toLowerCase().includes(needle))
    .map((name) => ({ value: name, label: name, description: 'Dashboard variable' }));
}
