// h2_client.js - one long-lived HTTP/2 session of Node's own client (the
// http2 module), for a recording that begins mid-connection:
//     node h2_client.js PORT GOFILE
// Connects to h2c://127.0.0.1:PORT, makes the "before" requests
// (GET /ok, /users/1, /missing) on the session, prints "before done",
// waits until GOFILE exists, then makes the "after" requests on the same
// connection (GET /ok, /users/2, /missing, /error, POST /upload with 1000
// bytes, then /ok and /users/2 again), one at a time, printing "STATUS PATH"
// for each, and closes.  Every request carries the headers in
// $H2_AUTH (authorization) and $H2_COOKIE (cookie) when set: secrets
// never in argv, which the recorder keeps.
'use strict';
const fs = require('fs');
const http2 = require('http2');

const [port, gofile] = process.argv.slice(2);
const session = http2.connect(`http://127.0.0.1:${port}`);
session.on('error', (e) => { console.error(e); process.exit(1); });

function request(method, path, body) {
	return new Promise((resolve, reject) => {
		const h = { ':method': method, ':path': path };
		if (process.env.H2_AUTH) h.authorization = process.env.H2_AUTH;
		if (process.env.H2_COOKIE) h.cookie = process.env.H2_COOKIE;
		if (body) h['content-length'] = body.length;
		const req = session.request(h);
		let status = 0;
		req.on('response', (hd) => { status = hd[':status']; });
		req.on('data', () => {});
		req.on('end', () => { console.log(`${status} ${path}`); resolve(); });
		req.on('error', reject);
		req.end(body);
	});
}

async function main() {
	for (const p of ['/ok', '/users/1', '/missing']) await request('GET', p);
	console.log('before done');
	while (!fs.existsSync(gofile)) await new Promise((r) => setTimeout(r, 20));
	for (const p of ['/ok', '/users/2', '/missing', '/error']) await request('GET', p);
	await request('POST', '/upload', Buffer.alloc(1000, 'u'));
	for (const p of ['/ok', '/users/2']) await request('GET', p);
	session.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
