import { ScopedVars, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

export interface FakeVariable {
  /** Current value; `$__all` means "All" and expands to `options`. */
  value: string | string[];
  multi?: boolean;
  includeAll?: boolean;
  options?: string[];
}

type FormatFn = (value: string | string[], variable: { multi?: boolean; includeAll?: boolean }) => string;

const VARIABLE = /\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]/g;

/**
 * A TemplateSrv that interpolates the way Grafana's does for what this plugin uses: `$x`, `${x}`,
 * `${x:fmt}` and `[[x]]`; scoped variables win over dashboard ones; unknown variables stay as they
 * are; "All" expands to every option; a format function receives the value (a list for multi-value
 * variables) and the variable; `csv` joins with commas; without a format a list becomes `{a,b}`.
 */
export class FakeTemplateSrv implements TemplateSrv {
  constructor(private variables: Record<string, FakeVariable> = {}) {}

  getVariables(): TypedVariableModel[] {
    return Object.keys(this.variables).map((name) => ({ name, type: 'custom' }) as unknown as TypedVariableModel);
  }

  containsTemplate(target?: string): boolean {
    return Boolean(target && target.match(VARIABLE));
  }

  updateTimeRange(): void {}

  replace(target?: string, scopedVars?: ScopedVars, format?: string | Function): string {
    if (!target) {
      return target ?? '';
    }
    return target.replace(VARIABLE, (match, n1, n2, f2, n3, f3) => {
      const name: string = n1 ?? n2 ?? n3;
      const inlineFormat: string | undefined = f2 ?? f3;
      const scoped = scopedVars?.[name];
      const variable: FakeVariable | undefined = scoped
        ? { value: scoped.value as string | string[] }
        : this.variables[name];
      if (!variable) {
        return match;
      }
      let value = variable.value;
      if (value === '$__all' || (Array.isArray(value) && value.includes('$__all'))) {
        value = variable.options ?? [];
      }
      const fmt = inlineFormat ?? format;
      if (typeof fmt === 'function') {
        return (fmt as FormatFn)(value, { multi: variable.multi, includeAll: variable.includeAll });
      }
      if (Array.isArray(value)) {
        return fmt === 'csv' ? value.join(',') : `{${value.join(',')}}`;
      }
      return value;
    });
  }
}
