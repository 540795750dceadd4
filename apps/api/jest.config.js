module.exports = {
  displayName: 'api',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // openapi-backend (the OpenAPI response check) loads these ES-module-only packages with require:
  // SWC turns them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(@apidevtools/json-schema-ref-parser|js-yaml)/)'],
};
