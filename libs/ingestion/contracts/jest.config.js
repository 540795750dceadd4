module.exports = {
  displayName: 'ingestion-contracts',
  preset: '../../../jest.preset.js',
  rootDir: __dirname,
};
