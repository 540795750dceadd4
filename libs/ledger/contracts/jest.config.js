module.exports = {
  displayName: 'ledger-contracts',
  preset: '../../../jest.preset.js',
  rootDir: __dirname,
};
