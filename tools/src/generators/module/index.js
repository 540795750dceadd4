// The entry Nx loads for `nx g @modulith/tools:module`: plain JavaScript, so it needs no
// TypeScript loader of Nx's; it installs ours and hands over to the TypeScript generator.
require('../../ts-hook').register();
const { moduleGenerator } = require('./generator.ts');

module.exports = moduleGenerator;
module.exports.default = moduleGenerator;
