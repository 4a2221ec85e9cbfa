/**
 * @jest-environment node
 */
import { readFileSync } from 'fs';
import path from 'path';
import { parse } from 'yaml';

import pluginJson from './plugin.json';
import { NARRATIVE_MODES, REVIEW_ROLES } from './types';

const ROOT = path.join(__dirname, '..');
const load = (file: string) => parse(readFileSync(path.join(ROOT, 'provisioning', file), 'utf8'));

/** The jsonData keys of MdmDataSourceOptions (src/types.ts) and the type each must have. */
const JSON_DATA_TYPES: Record<string, string> = {
  storeUri: 'string',
  llmEndpoint: 'string',
  llmModel: 'string',
  llmTimeoutSeconds: 'number',
  narrativeMode: 'string',
  reviewMinRole: 'string',
  storageOptions: 'object',
};

describe('provisioning/datasources/mdm-audit.yaml', () => {
  const file = load('datasources/mdm-audit.yaml');
  const ds = file.datasources[0];

  it('provisions one datasource of this plugin', () => {
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toHaveLength(1);
    expect(ds).toMatchObject({ name: 'MDM Audit', type: pluginJson.id, uid: 'mdm-audit', access: 'proxy' });
  });

  it('sets only settings the plugin knows, with the right types', () => {
    for (const [key, value] of Object.entries(ds.jsonData as Record<string, unknown>)) {
      expect([key, typeof value]).toEqual([key, JSON_DATA_TYPES[key]]);
    }
    expect(ds.jsonData.storeUri).toBe('/var/lib/mdm-audit/data');
    expect(NARRATIVE_MODES).toContain(ds.jsonData.narrativeMode);
    expect(REVIEW_ROLES).toContain(ds.jsonData.reviewMinRole);
  });

  it('keeps secrets out of jsonData', () => {
    expect(Object.keys(ds.jsonData)).not.toEqual(expect.arrayContaining(['llmApiKey']));
    expect(ds.secureJsonData).toBeUndefined();
  });
});

describe('provisioning/dashboards/dashboards.yaml', () => {
  it('loads the dashboards folder as docker-compose mounts it', () => {
    const file = load('dashboards/dashboards.yaml');
    expect(file.apiVersion).toBe(1);
    expect(file.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }),
      }),
    ]);
  });
});
