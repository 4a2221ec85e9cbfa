import React, { ChangeEvent, FormEvent } from 'react';

import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, RadioButtonGroup, SecretInput, SecretTextArea } from '@grafana/ui';

import {
  DEFAULT_LLM_TIMEOUT_SECONDS,
  DEFAULT_NARRATIVE_MODE,
  DEFAULT_REVIEW_MIN_ROLE,
  DEFAULT_STORE_URI,
  MdmDataSourceOptions,
  MdmSecureJsonData,
  NarrativeMode,
  ReviewRole,
} from '../types';

export type Props = DataSourcePluginOptionsEditorProps<MdmDataSourceOptions, MdmSecureJsonData>;

type SecureKey = keyof MdmSecureJsonData;
type TextKey = 'storeUri' | 'llmEndpoint' | 'llmModel';

const NARRATIVE_MODE_OPTIONS: Array<{ value: NarrativeMode; label: string; description: string }> = [
  { value: 'template', label: 'Template', description: 'Deterministic sentences from the evidence; no LLM needed' },
  { value: 'llm', label: 'LLM', description: 'The LLM below writes; the template answers when it fails or times out' },
];

const REVIEW_ROLE_OPTIONS: Array<{ value: ReviewRole; label: string; description: string }> = [
  { value: 'Viewer', label: 'Viewer', description: 'Any signed-in user of the organization may record a review' },
  { value: 'Editor', label: 'Editor', description: 'Editors and Admins may record a review; Viewers get 403' },
  { value: 'Admin', label: 'Admin', description: 'Only organization Admins may record a review' },
];

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData;
  const secureJsonFields = options.secureJsonFields ?? {};
  const secureJsonData = options.secureJsonData ?? {};

  const setJson = (patch: Partial<MdmDataSourceOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });

  const onText = (key: TextKey) => (e: ChangeEvent<HTMLInputElement>) => {
    const value = e.currentTarget.value;
    setJson({ [key]: value === '' ? undefined : value });
  };

  const onSecret = (key: SecureKey) => (e: FormEvent<HTMLInputElement | HTMLTextAreaElement>) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, [key]: e.currentTarget.value } });

  /** Forget a stored secret: Grafana deletes it when the form is saved. */
  const onReset = (key: SecureKey) => () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, [key]: false },
      secureJsonData: { ...secureJsonData, [key]: '' },
    });

  const secret = (key: SecureKey, id: string, placeholder: string) => (
    <SecretInput
      id={id}
      isConfigured={Boolean(secureJsonFields[key])}
      value={secureJsonData[key] ?? ''}
      placeholder={placeholder}
      width={60}
      onReset={onReset(key)}
      onChange={onSecret(key)}
    />
  );

  const timeoutInvalid = jsonData.llmTimeoutSeconds !== undefined && !(jsonData.llmTimeoutSeconds > 0);

  return (
    <>
      <FieldSet label="Store">
        <Field
          label="Store location"
          htmlFor="mdm-store-uri"
          description={
            <>
              Where <code>mdm-audit serve</code> writes the audit trail: a directory on the Grafana server (an absolute
              path is safest; a relative one is resolved against the Grafana server&apos;s working directory), or{' '}
              <code>s3://bucket/prefix</code> for S3-compatible storage. Default <code>{DEFAULT_STORE_URI}</code>.
            </>
          }
        >
          <Input
            id="mdm-store-uri"
            width={60}
            value={jsonData.storeUri ?? ''}
            placeholder={DEFAULT_STORE_URI}
            onChange={onText('storeUri')}
          />
        </Field>
        <Field
          label="Storage access key"
          htmlFor="mdm-storage-access-key"
          description="For s3:// locations only. Leave empty to use the Grafana server's environment or instance role."
        >
          {secret('storageAccessKey', 'mdm-storage-access-key', 'Access key id')}
        </Field>
        <Field label="Storage secret key" htmlFor="mdm-storage-secret-key" description="For s3:// locations only.">
          {secret('storageSecretKey', 'mdm-storage-secret-key', 'Secret access key')}
        </Field>
      </FieldSet>

      <FieldSet label="Narratives">
        <Field
          label="Narrative mode"
          description="How narrative queries are written. Every sentence cites the events it rests on in both modes."
        >
          <RadioButtonGroup<NarrativeMode>
            options={NARRATIVE_MODE_OPTIONS}
            value={jsonData.narrativeMode ?? DEFAULT_NARRATIVE_MODE}
            onChange={(narrativeMode) => setJson({ narrativeMode })}
          />
        </Field>
        <Field
          label="LLM endpoint"
          htmlFor="mdm-llm-endpoint"
          description="Base URL of an OpenAI-compatible chat completions API (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp server), e.g. http://127.0.0.1:8080/v1."
        >
          <Input
            id="mdm-llm-endpoint"
            width={60}
            value={jsonData.llmEndpoint ?? ''}
            placeholder="http://127.0.0.1:8080/v1"
            onChange={onText('llmEndpoint')}
          />
        </Field>
        <Field label="LLM model" htmlFor="mdm-llm-model" description="The model name the endpoint expects.">
          <Input
            id="mdm-llm-model"
            width={60}
            value={jsonData.llmModel ?? ''}
            placeholder="gpt-4o-mini"
            onChange={onText('llmModel')}
          />
        </Field>
        <Field
          label="LLM timeout (seconds)"
          htmlFor="mdm-llm-timeout"
          description={`Per request; when it runs out the template narrator answers instead. Default ${DEFAULT_LLM_TIMEOUT_SECONDS}.`}
          invalid={timeoutInvalid}
          error={timeoutInvalid ? 'A number of seconds greater than 0' : undefined}
        >
          <Input
            id="mdm-llm-timeout"
            type="number"
            min={1}
            width={12}
            value={jsonData.llmTimeoutSeconds ?? ''}
            placeholder={String(DEFAULT_LLM_TIMEOUT_SECONDS)}
            onChange={(e: ChangeEvent<HTMLInputElement>) => {
              const text = e.currentTarget.value.trim();
              setJson({ llmTimeoutSeconds: text === '' ? undefined : Number(text) });
            }}
          />
        </Field>
        <Field
          label="LLM API key"
          htmlFor="mdm-llm-api-key"
          description="Sent as a bearer token to the endpoint. Stored encrypted; the browser never reads it back."
        >
          {secret('llmApiKey', 'mdm-llm-api-key', 'API key')}
        </Field>
      </FieldSet>

      <FieldSet label="Reviews">
        <Field
          label="Who may review"
          description="The lowest Grafana organization role that may approve, edit or reject a narrative. The reviewer's login, name, e-mail and org are taken from Grafana's sign-in, never from the request."
        >
          <RadioButtonGroup<ReviewRole>
            options={REVIEW_ROLE_OPTIONS}
            value={jsonData.reviewMinRole ?? DEFAULT_REVIEW_MIN_ROLE}
            onChange={(reviewMinRole) => setJson({ reviewMinRole })}
          />
        </Field>
        <Field
          label="Review signing key"
          htmlFor="mdm-signing-key"
          description={
            <>
              Ed25519 private key (PKCS#8 PEM, from <code>mdm-audit keygen</code>) that signs the chain head of every
              review recorded from Grafana, so <code>mdm-audit verify --trusted-keys</code> accepts them. Stored
              encrypted; the browser never reads it back.
            </>
          }
        >
          <SecretTextArea
            id="mdm-signing-key"
            isConfigured={Boolean(secureJsonFields.signingKey)}
            value={secureJsonData.signingKey ?? ''}
            placeholder="-----BEGIN PRIVATE KEY-----"
            rows={4}
            cols={60}
            onReset={onReset('signingKey')}
            onChange={onSecret('signingKey')}
          />
        </Field>
      </FieldSet>
    </>
  );
}
