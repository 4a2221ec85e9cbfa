import { DataSourceInstanceSettings, DataSourcePluginMeta, PluginType } from '@grafana/data';

import { DataSource } from '../datasource';
import { MdmDataSourceOptions } from '../types';
import pluginJson from '../plugin.json';

export function instanceSettings(
  jsonData: MdmDataSourceOptions = {}
): DataSourceInstanceSettings<MdmDataSourceOptions> {
  return {
    uid: 'mdm-uid',
    type: pluginJson.id,
    name: 'MDM Audit',
    access: 'proxy',
    readOnly: false,
    jsonData,
    meta: {
      id: pluginJson.id,
      name: pluginJson.name,
      type: PluginType.datasource,
      module: 'public/plugins/mdm-audit-datasource/module.js',
      baseUrl: 'public/plugins/mdm-audit-datasource',
      info: {
        author: { name: 'test' },
        description: '',
        links: [],
        logos: { small: '', large: '' },
        screenshots: [],
        updated: '',
        version: '',
      },
    } as DataSourcePluginMeta<MdmDataSourceOptions>,
  };
}

export function makeDataSource(jsonData: MdmDataSourceOptions = {}): DataSource {
  return new DataSource(instanceSettings(jsonData));
}
