module.exports = {
  displayName: 'platform-observability',
  preset: '../../../jest.preset.js',
  rootDir: __dirname,
};
