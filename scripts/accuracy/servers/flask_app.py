"""Accuracy-harness Flask app for gunicorn: GET /work costs ACC_COST_MS
(ACC_HANDLER=sleep: time.sleep; spin: busy loop) and answers "ok\n"."""
import os, time
from flask import Flask, Response

app = Flask(__name__)
COST = float(os.environ.get("ACC_COST_MS", "5")) / 1000
SPIN = os.environ.get("ACC_HANDLER", "sleep") == "spin"


@app.route("/work")
def work():
    if SPIN:
        end = time.perf_counter() + COST
        while time.perf_counter() < end:
            pass
    else:
        time.sleep(COST)
    return Response("ok\n", mimetype="text/plain")
