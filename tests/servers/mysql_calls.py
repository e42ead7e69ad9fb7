"""mysql_calls.py - a fixed set of MySQL/MariaDB calls for the e2e test
(tests/e2e/record_mysql.sh) and for the unit tests' byte streams.

PyMySQL speaks the text protocol (COM_QUERY, its parameters interpolated on
the client); the binary protocol (COM_STMT_PREPARE / COM_STMT_EXECUTE /
COM_STMT_CLOSE) has no client here, so once PyMySQL has authenticated this
script sends those commands itself on PyMySQL's socket, as the protocol
documentation frames them, and reads the server's real answers.

usage: MYSQL_CALLS_PASSWORD=... mysql_calls.py HOST PORT USER DATABASE
(the password in the environment: a recorder keeps command lines)
Prints one line per call made ("call NAME"), then "done".
"""
import os
import struct
import sys

import pymysql
from pymysql.constants import CLIENT

COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_STMT_CLOSE = 0x16, 0x17, 0x19
TYPE_LONGLONG, TYPE_VAR_STRING = 0x08, 0xFD


def lenenc_str(b):
    assert len(b) < 251
    return bytes([len(b)]) + b


def read_until_eof(conn, n):
    """n definition packets, then the EOF after them (no CLIENT_DEPRECATE_EOF)."""
    for _ in range(n):
        conn._read_packet()
    if n:
        assert conn._read_packet().is_eof_packet()


def prepare(conn, sql):
    conn._execute_command(COM_STMT_PREPARE, sql)
    ok = conn._read_packet()
    data = ok.get_all_data()
    assert data[0] == 0, data
    stmt_id, ncols, nparams = struct.unpack_from("<IHH", data, 1)
    read_until_eof(conn, nparams)
    read_until_eof(conn, ncols)
    return stmt_id


def execute(conn, stmt_id, params):
    """params: ints and bytes; returns the rows read (binary rows)."""
    body = struct.pack("<IBI", stmt_id, 0, 1)
    if params:
        body += bytes((len(params) + 7) // 8)  # null bitmap: none null
        body += b"\x01"  # new params bound: the types follow
        for p in params:
            body += struct.pack("<BB", TYPE_LONGLONG if isinstance(p, int) else TYPE_VAR_STRING, 0)
        for p in params:
            body += struct.pack("<q", p) if isinstance(p, int) else lenenc_str(p)
    conn._execute_command(COM_STMT_EXECUTE, body)
    first = conn._read_packet()
    data = first.get_all_data()
    if data[0] in (0x00, 0xFF):
        return 0
    ncols = data[0]
    read_until_eof(conn, ncols)
    rows = 0
    while not conn._read_packet().is_eof_packet():
        rows += 1
    return rows


def close_stmt(conn, stmt_id):
    conn._execute_command(COM_STMT_CLOSE, struct.pack("<I", stmt_id))


def main():
    host, port, user, db = sys.argv[1:5]
    password = os.environ["MYSQL_CALLS_PASSWORD"]
    conn = pymysql.connect(host=host, port=int(port), user=user, password=password, database=db,
                           client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
    cur = conn.cursor()

    def call(name, sql, args=None):
        print("call", name, flush=True)
        cur.execute(sql, args)
        while cur.nextset():
            pass

    call("insert", "INSERT INTO items (id, name, secret) VALUES (%s, %s, %s)", (1, "apple", "SECRET-lit-4242"))
    call("select", "SELECT id, name FROM items WHERE id = %s", (1,))
    try:
        call("duplicate", "INSERT INTO items (id, name, secret) VALUES (%s, %s, %s)", (1, "again", "x"))
        raise SystemExit("the duplicate insert did not fail")
    except pymysql.err.IntegrityError as e:
        assert e.args[0] == 1062, e
    try:
        call("syntax", "SELEC 1")
        raise SystemExit("the syntax error did not fail")
    except pymysql.err.ProgrammingError as e:
        assert e.args[0] == 1064, e
    call("multi", "SELECT 1; SELECT name FROM items")
    print("call prepare_select", flush=True)
    sel = prepare(conn, "SELECT name FROM items WHERE id = ?")
    print("call execute_select", flush=True)
    assert execute(conn, sel, [1]) == 1
    print("call prepare_insert", flush=True)
    ins = prepare(conn, "INSERT INTO items (id, name, secret) VALUES (?, ?, ?)")
    print("call execute_insert", flush=True)
    execute(conn, ins, [2, b"pear", b"SECRET-param-5151"])
    close_stmt(conn, sel)
    close_stmt(conn, ins)
    call("select_all", "SELECT secret FROM items ORDER BY id")
    assert cur.fetchall() is not None
    print("call ping", flush=True)
    conn.ping(reconnect=False)
    conn.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
