// node_https.js - the test routes on Node's https module: HTTP/1.1 over the
// OpenSSL linked into the node executable (which exports SSL_read and
// SSL_write), keep-alive.  For tests/e2e/record_openssl.sh.
//     node node_https.js PORT KEY.pem CERT.pem
// Routes (as tests/servers/http_server.py): GET /ok, GET /users/N (JSON),
// GET /missing (404), POST /upload (201, "received N\n"), anything else 404.
// Prints "listening PORT" once it listens.
'use strict';
const fs = require('fs');
const https = require('https');

const [port, keyFile, certFile] = process.argv.slice(2);

function send(res, code, type, body) {
	res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
	res.end(body);
}

const server = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, (req, res) => {
	const url = new URL(req.url, 'https://x');
	const user = /^\/users\/(\d+)$/.exec(url.pathname);
	if (req.method === 'POST' && url.pathname === '/upload') {
		let n = 0;
		req.on('data', (d) => { n += d.length; });
		req.on('end', () => send(res, 201, 'text/plain', `received ${n}\n`));
		return;
	}
	req.resume();
	if (url.pathname === '/ok') send(res, 200, 'text/plain', 'ok\n');
	else if (user) send(res, 200, 'application/json', `{"id": ${+user[1]}, "name": "user-${+user[1]}"}`);
	else if (url.pathname === '/missing') send(res, 404, 'text/plain', 'missing\n');
	else send(res, 404, 'text/plain', 'no such route\n');
});
server.listen(Number(port), '127.0.0.1', () => console.log(`listening ${port}`));
