// The compiled addon; absent (and this throws) when it was not built.
module.exports = require('./build/Release/onednn.node');
