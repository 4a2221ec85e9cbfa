import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { MdmDataSourceOptions, MdmQuery, MdmSecureJsonData } from './types';

export const plugin = new DataSourcePlugin<DataSource, MdmQuery, MdmDataSourceOptions, MdmSecureJsonData>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
