// The OpenAPI document validates against the OpenAPI 3 specification.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startServer } from './support.mjs';

let server;

before(async () => {
  server = await startServer({ ADMIN_PASSWORD: 'openapi-test-passphrase' });
});

after(async () => {
  await server?.stop();
});

test('/api/openapi.json is a valid OpenAPI 3 document', async () => {
  const response = await fetch(`${server.url}/api/openapi.json`);
  assert.equal(response.status, 200);
  const document = await response.json();
  const api = await SwaggerParser.validate(document);
  assert.match(api.openapi, /^3\./);
  assert.ok(api.paths['/api/v1/users/{id}'].patch);
});
