"""db_app.py - a Flask app whose handler calls PostgreSQL, MariaDB and Redis,
the way web applications do, for tests/e2e/record_db_app.sh:

    DB_PG=... DB_MY_SOCK=... DB_REDIS=... gunicorn -k sync -w 1 -b 127.0.0.1:PORT \
        --chdir tests/servers db_app:app

GET /order/N makes, on connections opened once per worker (a pool of one):
  PostgreSQL (psycopg 3, autocommit): SELECT name FROM items WHERE id = %s
      (extended protocol, a bound parameter), then an INSERT with a secret
      literal in its text (AUDIT_SECRET) and one bound as a parameter;
  MariaDB (PyMySQL over TCP): SELECT name FROM items WHERE id = N (PyMySQL
      interpolates: a COM_QUERY);
  Redis (redis-py): GET item:N, SET seen:N VALUE_SECRET, and a pipeline of
      INCRBY hits:N 1 + EXPIRE hits:N 60 (one write, two replies: redis-py's
      incr() is INCRBY).
So each request is 2 + 1 + 4 database calls, all made by the thread that
read the request.  GET /fail runs a statement PostgreSQL refuses (42P01)
and a Redis command on the wrong type (HGET of a list: WRONGTYPE).
"""
import os

import psycopg
import pymysql
import redis
from flask import Flask, Response

AUDIT_SECRET = "audit-SECRET-5b2c"
PARAM_SECRET = "param-SECRET-91fa"
VALUE_SECRET = "value-SECRET-c3d8"

app = Flask(__name__)
_conns = {}


def conns():
    if not _conns:
        pw = os.environ["DB_PASSWORD"]
        _conns["pg"] = psycopg.connect(os.environ["DB_PG"], autocommit=True)
        _conns["my"] = pymysql.connect(host="127.0.0.1", port=int(os.environ["DB_MY_PORT"]),
                                       user=os.environ["DB_USER"], password=pw,
                                       database=os.environ["DB_NAME"], autocommit=True)
        _conns["rd"] = redis.Redis(host="127.0.0.1", port=int(os.environ["DB_REDIS_PORT"]), password=pw)
    return _conns["pg"], _conns["my"], _conns["rd"]


@app.route("/order/<int:n>")
def order(n):
    pg, my, rd = conns()
    row = pg.execute("SELECT name FROM items WHERE id = %s", (n,)).fetchone()
    pg.execute("INSERT INTO audit (who, token, note) VALUES ('web', '%s', %%s)" % AUDIT_SECRET, (PARAM_SECRET,))
    with my.cursor() as c:
        c.execute("SELECT name FROM items WHERE id = %s", (n,))
        mrow = c.fetchone()
    cached = rd.get("item:%d" % n)
    rd.set("seen:%d" % n, VALUE_SECRET)
    p = rd.pipeline(transaction=False)
    p.incr("hits:%d" % n)
    p.expire("hits:%d" % n, 60)
    p.execute()
    body = "%s %s %s\n" % (row[0] if row else "-", mrow[0] if mrow else "-", "hit" if cached else "miss")
    return Response(body, 200, mimetype="text/plain")


@app.route("/fail")
def fail():
    pg, _, rd = conns()
    try:
        pg.execute("SELECT * FROM no_such_table")
    except psycopg.Error:
        pass
    rd.rpush("alist", "x")
    try:
        rd.hget("alist", "field")
    except redis.ResponseError:
        pass
    return Response("failed as asked\n", 200, mimetype="text/plain")
