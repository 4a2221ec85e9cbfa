import React, { useCallback, useEffect, useState } from 'react';

import { getTemplateSrv } from '@grafana/runtime';
import { CodeEditor, CodeEditorSuggestionItem, CodeEditorSuggestionItemKind, Stack, Text } from '@grafana/ui';

import { DataSource } from '../datasource';
import { SchemaResponse } from '../types';

export const SQL_EXAMPLE = `SELECT time, actor_upn, action, device_name, risk_level
FROM events
WHERE risk_level IN ('high', 'critical')
ORDER BY time DESC`;

interface Props {
  id: string;
  datasource: DataSource;
  value: string;
  /** Called with the statement when the editor loses focus or on Ctrl/Cmd+S. */
  onCommit: (sql: string) => void;
}

/** SQL editor with completion for the store's tables and columns and the dashboard's variables. */
export function SqlEditor({ id, datasource, value, onCommit }: Props) {
  const [schema, setSchema] = useState<SchemaResponse | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    datasource.getSchema().then(
      (s) => {
        if (!cancelled) {
          setSchema(s);
        }
      },
      // Completion is a convenience: without a schema the editor still works.
      () => undefined
    );
    return () => {
      cancelled = true;
    };
  }, [datasource]);

  const getSuggestions = useCallback(() => sqlSuggestions(schema), [schema]);

  return (
    <Stack direction="column" gap={0.5}>
      <div id={id} aria-label="SQL statement" role="group">
        <CodeEditor
          language="sql"
          value={value}
          height={200}
          showLineNumbers
          showMiniMap={false}
          onBlur={onCommit}
          onSave={onCommit}
          getSuggestions={getSuggestions}
        />
      </div>
      <Text variant="bodySmall" color="secondary">
        One read-only SELECT over the table events, which holds the events of the panel&apos;s time range. Runs when the
        editor loses focus or on Ctrl/Cmd+S. Multi-value variables become quoted lists: IN ($actor).
      </Text>
    </Stack>
  );
}

export function sqlSuggestions(schema: SchemaResponse | undefined): CodeEditorSuggestionItem[] {
  const items: CodeEditorSuggestionItem[] = [];
  for (const table of schema?.tables ?? []) {
    items.push({ label: table.name, kind: CodeEditorSuggestionItemKind.Text, detail: 'table' });
    for (const col of table.columns) {
      items.push({
        label: col.name,
        kind: CodeEditorSuggestionItemKind.Field,
        detail: `${table.name}.${col.name}: ${col.type}`,
        documentation: col.description,
      });
    }
  }
  for (const v of getTemplateSrv().getVariables()) {
    items.push({ label: `$${v.name}`, kind: CodeEditorSuggestionItemKind.Property, detail: 'dashboard variable' });
  }
  return items;
}
