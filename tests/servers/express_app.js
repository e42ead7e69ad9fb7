// express_app.js - the test route set (see http_server.py) on Node's Express:
//     NODE_PATH=$BEYLA_CACHE/node/node_modules node express_app.js PORT
// /chunked is sent with res.write (Transfer-Encoding: chunked), one chunk per write.
'use strict';
const express = require('express');

const app = express();
app.set('etag', false);
app.set('x-powered-by', false);
const CHUNK = 'c'.repeat(512);
const LARGE = Buffer.alloc(200000, 'L');

app.get('/ok', (req, res) => res.type('text/plain').send('ok\n')); // HEAD too
app.get(/^\/users\/(\d+)$/, (req, res) => {
	const n = Number(req.params[0]);
	res.type('application/json').send(`{"id": ${n}, "name": "user-${n}"}`);
});
app.get('/missing', (req, res) => res.status(404).type('text/plain').send('missing\n'));
app.get('/error', (req, res) => res.status(500).type('text/plain').send('error\n'));
app.get('/large', (req, res) => res.type('application/octet-stream').send(LARGE));
app.get('/chunked', (req, res) => {
	res.status(200).type('text/plain');
	let i = 0;
	const next = () => {
		if (i++ < 6) {
			res.write(CHUNK);
			setImmediate(next);
		} else {
			res.end();
		}
	};
	next();
});
app.post('/upload', (req, res) => {
	let n = 0;
	req.on('data', (d) => { n += d.length; });
	req.on('end', () => res.status(201).type('text/plain').send(`received ${n}\n`));
});

const port = Number(process.argv[2]);
app.listen(port, '127.0.0.1');
