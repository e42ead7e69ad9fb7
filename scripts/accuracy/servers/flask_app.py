"""Accuracy-harness Flask app for gunicorn: GET /work costs ACC_COST_MS
(ACC_HANDLER=sleep: time.sleep; spin: busy loop on the wall clock; cpu: busy
loop until the thread has used ACC_COST_MS of CPU time, time.thread_time) and
answers "ok\n".  With cpu the response carries X-Handler-Cpu-Ns, the CPU time
the view function's thread used (loadgen writes it to its CSV)."""
import os, time
import handler_cost
from flask import Flask, Response

app = Flask(__name__)
COST = float(os.environ.get("ACC_COST_MS", "5")) / 1000
HANDLER = os.environ.get("ACC_HANDLER", "sleep")


@app.route("/work")
def work():
    t0 = time.thread_time_ns()
    handler_cost.burn(HANDLER, COST)
    r = Response("ok\n", mimetype="text/plain")
    if HANDLER == "cpu":
        r.headers["X-Handler-Cpu-Ns"] = str(time.thread_time_ns() - t0)
    return r
