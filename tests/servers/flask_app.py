"""flask_app.py - the test route set (see http_server.py) as a Flask app, for
gunicorn's sync workers:

    gunicorn -w 2 -k sync -b 127.0.0.1:PORT --chdir tests/servers flask_app:app

Sync workers answer one request per connection (Connection: close), so a
keep-alive or pipelining client has to reconnect; /chunked is a generator,
which gunicorn sends with Transfer-Encoding: chunked.
"""
from flask import Flask, Response, request

app = Flask(__name__)
CHUNK = b"c" * 512


@app.route("/ok", methods=["GET", "HEAD"])
def ok():
    return Response(b"ok\n", 200, mimetype="text/plain")


@app.route("/users/<int:n>")
def user(n):
    return Response('{"id": %d, "name": "user-%d"}' % (n, n), 200, mimetype="application/json")


@app.route("/missing")
def missing():
    return Response(b"missing\n", 404, mimetype="text/plain")


@app.route("/error")
def error():
    return Response(b"error\n", 500, mimetype="text/plain")


@app.route("/large")
def large():
    return Response(b"L" * 200000, 200, mimetype="application/octet-stream")


@app.route("/chunked")
def chunked():
    def gen():
        for _ in range(6):
            yield CHUNK
    return Response(gen(), 200, mimetype="text/plain")


@app.route("/upload", methods=["POST"])
def upload():
    n = len(request.get_data())
    return Response(("received %d\n" % n).encode(), 201, mimetype="text/plain")
