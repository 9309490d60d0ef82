// protobufjs' optional-require helper (@protobufjs/inquire) hides `require` behind eval, which a
// Content-Security-Policy without 'unsafe-eval' reports as a violation. In the browser nothing it looks
// up (buffer, long) exists anyway, and codec.ts hands protobufjs `long` itself: answer "not there".
module.exports = function inquire() { return null; };
