module.exports = {
  displayName: 'analytics-contracts',
  preset: '../../../jest.preset.js',
  rootDir: __dirname,
};
