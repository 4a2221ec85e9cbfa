import React, { useState } from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { DataSourceSettings } from '@grafana/data';

import { MdmDataSourceOptions, MdmSecureJsonData } from '../types';
import { ConfigEditor } from './ConfigEditor';

type Settings = DataSourceSettings<MdmDataSourceOptions, MdmSecureJsonData>;

function settings(patch: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'mdm-uid',
    orgId: 1,
    name: 'MDM Audit',
    type: 'mdm-audit-datasource',
    typeName: 'MDM Audit',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- DataSourceSettings still requires it
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData: {},
    secureJsonFields: {},
    ...patch,
  };
}

function setup(initial: Settings) {
  const onOptionsChange = jest.fn();
  function Stateful() {
    const [options, setOptions] = useState(initial);
    return (
      <ConfigEditor
        options={options}
        onOptionsChange={(o) => {
          onOptionsChange(o);
          setOptions(o);
        }}
      />
    );
  }
  render(<Stateful />);
  return { onOptionsChange, last: (): Settings => onOptionsChange.mock.lastCall?.[0] };
}

describe('ConfigEditor', () => {
  it('shows the defaults as placeholders without writing them', () => {
    const { onOptionsChange } = setup(settings());
    expect(screen.getByLabelText(/^Store location/)).toHaveAttribute('placeholder', './data');
    expect(screen.getByLabelText(/^LLM timeout \(seconds\)/)).toHaveAttribute('placeholder', '30');
    expect(screen.getByRole('radio', { name: 'Template' })).toBeChecked();
    expect(onOptionsChange).not.toHaveBeenCalled();
  });

  it('writes the store location and LLM settings to jsonData', async () => {
    const { last } = setup(settings({ jsonData: { storeUri: './data' } }));
    const store = screen.getByLabelText(/^Store location/);
    await userEvent.clear(store);
    await userEvent.type(store, 's3://audit/trail');
    await userEvent.type(screen.getByLabelText(/^LLM endpoint/), 'http://127.0.0.1:8080/v1');
    await userEvent.type(screen.getByLabelText(/^LLM model/), 'smollm2');
    await userEvent.type(screen.getByLabelText(/^LLM timeout \(seconds\)/), '45');
    await userEvent.click(screen.getByRole('radio', { name: 'LLM' }));
    expect(last().jsonData).toEqual({
      storeUri: 's3://audit/trail',
      llmEndpoint: 'http://127.0.0.1:8080/v1',
      llmModel: 'smollm2',
      llmTimeoutSeconds: 45,
      narrativeMode: 'llm',
    });
    expect(last().secureJsonData).toBeUndefined();
  });

  it('removes a cleared text setting so the default applies', async () => {
    const { last } = setup(settings({ jsonData: { llmModel: 'm', llmTimeoutSeconds: 10 } }));
    await userEvent.clear(screen.getByLabelText(/^LLM model/));
    await userEvent.clear(screen.getByLabelText(/^LLM timeout \(seconds\)/));
    expect(last().jsonData).toEqual({ llmModel: undefined, llmTimeoutSeconds: undefined });
  });

  it('defaults reviews to Editors and writes the chosen minimum role', async () => {
    const { last, onOptionsChange } = setup(settings());
    expect(screen.getByRole('radio', { name: 'Editor' })).toBeChecked();
    expect(onOptionsChange).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('radio', { name: 'Admin' }));
    expect(last().jsonData).toEqual({ reviewMinRole: 'Admin' });
  });

  it('writes the review signing key, with its line breaks, to secureJsonData only', async () => {
    const { last } = setup(settings());
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----';
    await userEvent.click(screen.getByLabelText(/^Review signing key/));
    await userEvent.paste(pem);
    expect(last().secureJsonData).toEqual({ signingKey: pem });
    expect(last().jsonData).toEqual({});
  });

  it('flags a timeout that is not positive', () => {
    setup(settings({ jsonData: { llmTimeoutSeconds: 0 } }));
    expect(screen.getByText('A number of seconds greater than 0')).toBeInTheDocument();
  });

  it('writes secrets to secureJsonData only', async () => {
    const { last } = setup(settings());
    await userEvent.type(screen.getByLabelText(/^LLM API key/), 'sk-123');
    await userEvent.type(screen.getByLabelText(/^Storage access key/), 'AKIA1');
    await userEvent.type(screen.getByLabelText(/^Storage secret key/), 'shh');
    expect(last().secureJsonData).toEqual({ llmApiKey: 'sk-123', storageAccessKey: 'AKIA1', storageSecretKey: 'shh' });
    expect(last().jsonData).toEqual({});
  });

  it('shows a stored secret as configured, and reset forgets exactly that one', async () => {
    const { last } = setup(settings({ secureJsonFields: { llmApiKey: true, storageSecretKey: true } }));
    const apiKey = screen.getByLabelText(/^LLM API key/);
    expect(apiKey).toBeDisabled();
    expect(apiKey).toHaveValue('configured');
    expect(screen.getByLabelText(/^Storage access key/)).toBeEnabled();

    const resets = screen.getAllByRole('button', { name: 'Reset' });
    expect(resets).toHaveLength(2);
    await userEvent.click(resets[resets.length - 1]); // the LLM API key comes last on the page
    expect(last().secureJsonFields).toEqual({ llmApiKey: false, storageSecretKey: true });
    expect(last().secureJsonData).toEqual({ llmApiKey: '' });
    expect(screen.getByLabelText(/^LLM API key/)).toBeEnabled();
    expect(screen.getByLabelText(/^LLM API key/)).toHaveValue('');
  });
});
