// h2_server.js - the test routes on Node's own HTTP/2 server (the http2
// module: nghttp2 inside node), cleartext (h2c, prior knowledge only: Node
// does not answer an HTTP/1.1 Upgrade) or TLS:
//     node h2_server.js PORT                 http2.createServer
//     node h2_server.js /PATH                the same on a UNIX socket
//     node h2_server.js PORT KEY.pem CERT.pem   http2.createSecureServer (ALPN h2)
// Routes: GET /ok, GET /users/N (JSON), GET /missing (404), GET /error (500),
// POST /upload (201, "received N\n"), GET /login (200, a set-cookie whose
// value is $H2_SET_COOKIE, or a random one; never in argv: the recorder
// keeps every target's command line), anything else 404.
'use strict';
const fs = require('fs');
const http2 = require('http2');
const crypto = require('crypto');

const [port, keyFile, certFile] = process.argv.slice(2);
const cookie = process.env.H2_SET_COOKIE || crypto.randomBytes(12).toString('hex');

function handler(req, res) {
	const send = (code, type, body) => {
		res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
		res.end(body);
	};
	const url = new URL(req.url, 'http://x');
	const user = /^\/users\/(\d+)$/.exec(url.pathname);
	if (req.method === 'POST' && url.pathname === '/upload') {
		let n = 0;
		req.on('data', (d) => { n += d.length; });
		req.on('end', () => send(201, 'text/plain', `received ${n}\n`));
		return;
	}
	// a GET's body, if any, is read and dropped
	req.resume();
	if (url.pathname === '/ok') send(200, 'text/plain', 'ok\n');
	else if (user) send(200, 'application/json', `{"id": ${+user[1]}, "name": "user-${+user[1]}"}`);
	else if (url.pathname === '/error') send(500, 'text/plain', 'error\n');
	else if (url.pathname === '/login') {
		res.setHeader('set-cookie', `session=${cookie}; Path=/; HttpOnly`);
		send(200, 'text/plain', 'welcome\n');
	} else send(404, 'text/plain', 'missing\n');
}

const server = keyFile
	? http2.createSecureServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, handler)
	: http2.createServer(handler);
// a PORT beginning with '/' is a UNIX socket's path
if (port.startsWith('/')) server.listen(port, () => console.log(`listening ${port}`));
else server.listen(Number(port), '127.0.0.1', () => console.log(`listening ${port}`));
