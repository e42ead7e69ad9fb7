// Accuracy-harness Express server.  usage: node express_app.js PORT COST_MS sleep|spin
// sleep: setTimeout (the event loop stays free: I/O-bound handler);
// spin: a busy loop that blocks the event loop (CPU-bound handler).
const express = require('express');
const [port, costMs, kind] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const app = express();
app.disable('etag');
app.get('/work', (req, res) => {
  const reply = () => res.type('text/plain').send('ok\n');
  if (kind === 'spin') {
    const end = process.hrtime.bigint() + BigInt(Math.round(costMs * 1e6));
    while (process.hrtime.bigint() < end) { /* spin */ }
    reply();
  } else {
    setTimeout(reply, costMs);
  }
});
const server = app.listen(port, '127.0.0.1');
server.keepAliveTimeout = 60000;
