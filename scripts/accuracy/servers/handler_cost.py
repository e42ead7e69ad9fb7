"""handler_cost.py - the cost of the accuracy harness's GET /work, shared by
its Python servers (py_http.py, py_pool.py, flask_app.py).

    burn(kind, seconds)

kind "cpu": a busy loop until the calling thread has used `seconds` of CPU
time (time.thread_time_ns: however long it waits for the CPU); "spin": a
busy loop on the wall clock; anything else: time.sleep.
"""
import time


def burn(kind, seconds):
    if kind == "cpu":
        end = time.thread_time_ns() + int(seconds * 1e9)
        while time.thread_time_ns() < end:
            pass
    elif kind == "spin":
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass
    else:
        time.sleep(seconds)
